export { controlPlaneBinaries, readVersions } from './binaries.js';
export {
  CONTROL_PLANE_DIR,
  type ControlPlaneState,
  controlPlaneDown,
  controlPlaneUp,
  DEFAULT_CRD_DIR,
  readControlPlane,
} from './control-plane.js';
export { installCrds, readCrdDir } from './crds.js';
