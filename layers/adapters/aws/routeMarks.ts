// The tags every router puts on the route it shifts (an App Mesh route, an ALB rule or listener, a VPC
// Lattice rule or listener): one module all routers import, so no router imports another.

/** The tag on a route naming the rollout that owns it. */
export const ROLLOUT_OWNER_TAG = 'ecs-reflex:rollout';
/** Next to it, a person's request (`pause`, `promote`) for that rollout's next step. */
export const ROLLOUT_REQUEST_TAG = 'ecs-reflex:request';
