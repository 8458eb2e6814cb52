// The route the rollout tests share: an App Mesh route `web` in mesh `shop` from web-v1 to web-v2, as the
// twin's traffic model and the in-memory worlds of the tests hold it.
import type { RouteRef } from '#domain/rolloutRoutes';

export const MESH_ROUTE = {
  router: 'appmesh',
  meshName: 'shop',
  virtualRouterName: 'web',
  routeName: 'web',
  stable: 'web-v1',
  canary: 'web-v2',
} as const satisfies RouteRef;
