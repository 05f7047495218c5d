export { killSwitchRoutes } from "./kill-switches.routes.ts";
export {
  describeSwitch,
  EngageSchema,
  type KillSwitch,
  KillSwitchSchema,
} from "./kill-switches.schemas.ts";
export { createKillSwitchesService, type KillSwitchesService } from "./kill-switches.service.ts";
export { engagedSwitches, switchesCovering } from "./kill-switches.store.ts";
