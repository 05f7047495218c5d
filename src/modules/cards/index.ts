export * from "./card-sections.ts";
export { cardRoutes } from "./cards.routes.ts";
export { type CardsService, createCardsService } from "./cards.service.ts";
export { cardHash } from "./cards.store.ts";
export { parseHfCard, renderHfCard } from "./hf-format.ts";
