import { createApp } from "./http/app.ts";
import type { Clock } from "./lib/clock.ts";
import type { Logger } from "./lib/logger.ts";
import { cardRoutes, createCardsService } from "./modules/cards/index.ts";
import { createIdentityService, identityRoutes } from "./modules/identity/index.ts";
import { createRegistryService, registryRoutes } from "./modules/registry/index.ts";
import { createSpecService, specRoutes } from "./modules/spec/index.ts";
import type { Db } from "./store/db.ts";

export const VERSION = "0.1.0";

/** Builds every service and the HTTP app over one store. main.ts and the tests both wire through here. */
export function createServices({ db, clock }: { db: Db; clock: Clock }) {
  const registry = createRegistryService({ db, clock });
  const cards = createCardsService({ db, clock });
  const spec = createSpecService({ db, clock, registry, cards });
  const identity = createIdentityService({ db, clock });
  return { db, clock, registry, cards, spec, identity };
}

export type Services = ReturnType<typeof createServices>;

export function createHttpApp(services: Services, logger: Logger) {
  return createApp({
    db: services.db,
    authenticate: (token) => services.identity.authenticate(token),
    logger,
    version: VERSION,
    api: [
      registryRoutes(services.registry),
      cardRoutes(services.cards),
      specRoutes(services.spec),
      identityRoutes(services.identity),
    ],
  });
}
