export { killSwitchRoutes } from "./kill-switches.routes.ts";
export {
  EngageSchema,
  type KillSwitch,
  KillSwitchSchema,
} from "./kill-switches.schemas.ts";
export { createKillSwitchesService, type KillSwitchesService } from "./kill-switches.service.ts";
export { engagedSwitches } from "./kill-switches.store.ts";
