// App Mesh as the twin answers it: routes of virtual routers with their weighted targets (virtual nodes)
// and their tags, the checks App Mesh makes on every write, and the commands the App Mesh router sends
// (DescribeRoute, UpdateRoute, ListTagsForResource, TagResource, UntagResource). What the routes carry is
// simulated by the traffic (local/twin/traffic.ts), which hears every change of a route's targets.
import type {
  DescribeRouteInput,
  ListTagsForResourceInput,
  ResourceMetadata,
  RouteData,
  TagResourceInput,
  UntagResourceInput,
  UpdateRouteInput,
} from '@aws-sdk/client-app-mesh';
import { routeKey, type WeightedTarget } from '#domain/rolloutRoutes';
import { AwsServiceError, constraintError, read, type ServiceModel, write } from '#local/twin/aws/client';
import { type PageRules, page } from '#local/twin/aws/paging';
import type { RouteHandle, RouteObserver, Writer } from '#local/twin/traffic';
import type { World } from '#local/twin/world';

interface MeshRouteBody {
  action: { weightedTargets: { virtualNode: string; weight: number; port?: number }[] };
  match?: Record<string, unknown>;
  retryPolicy?: Record<string, unknown>;
  timeout?: Record<string, unknown>;
}

type MeshRouteSpec = { priority?: number } & { [F in MeshRouteField]?: MeshRouteBody };

type Defined<T> = { [K in keyof T]-?: NonNullable<T[K]> };
/** A route as DescribeRoute returns it, every field there. */
type MeshRouteData = Omit<Defined<RouteData>, 'spec' | 'metadata'> & {
  spec: MeshRouteSpec;
  metadata: Defined<ResourceMetadata>;
};

export interface MeshRouteId {
  meshName: string;
  /** The mesh owner's account; absent: this account. */
  meshOwner?: string;
  virtualRouterName: string;
  routeName: string;
}

/** A route as it exists before the scenario starts. */
export type MeshRouteInput = Omit<MeshRouteId, 'meshOwner'> & {
  protocol: 'http' | 'http2' | 'grpc' | 'tcp';
  targets: MeshRouteBody['action']['weightedTargets'];
  priority?: number;
} & Omit<MeshRouteBody, 'action'>;

const MESH_ROUTE_FIELDS = ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'] as const;
type MeshRouteField = (typeof MESH_ROUTE_FIELDS)[number];

/** App Mesh's limits on a route's weighted targets, and on a resource's tags. */
const MESH_MAX_TARGETS = 10;
const MESH_MAX_WEIGHT = 100;
const MAX_TAGS = 50;
/** ListTagsForResource: a page of `limit` tags, 1..100, 100 without one. */
const TAG_PAGES: PageRules = {
  defaultMax: 100,
  limit: 100,
  badToken: 'BadRequestException',
  badSize: 'BadRequestException',
  sizeName: 'limit',
};

const badRequest = (message: string) => new AwsServiceError('BadRequestException', message);

/** routeKey() of an App Mesh route, without a RouteRef: the owner shows only for a mesh shared with us. */
function meshRouteKey(id: MeshRouteId): string {
  return routeKey({ router: 'appmesh', ...id, stable: '', canary: '' });
}

interface MeshRouteState {
  data: MeshRouteData;
  tags: Map<string, string>;
}

export class TwinAppMesh {
  private readonly routes = new Map<string, MeshRouteState>();

  constructor(
    private readonly world: World,
    private readonly observer: RouteObserver,
  ) {}

  /**
   * A route as it exists before the scenario starts (not a write), in this account's mesh; the traffic
   * keeps route names unique.
   */
  addRoute(input: MeshRouteInput): RouteHandle {
    const { meshName, virtualRouterName, routeName, protocol, priority, match, retryPolicy, timeout } = input;
    const body: MeshRouteBody = {
      action: { weightedTargets: input.targets.map((t) => ({ ...t })) },
      ...(match
        ? { match }
        : protocol === 'tcp'
          ? {}
          : { match: protocol === 'grpc' ? { serviceName: routeName } : { prefix: '/' } }),
      ...(retryPolicy ? { retryPolicy } : {}),
      ...(timeout ? { timeout } : {}),
    };
    const spec: MeshRouteSpec = {
      ...(priority !== undefined ? { priority } : {}),
      [`${protocol}Route` as MeshRouteField]: body,
    };
    validateMeshSpec(spec);
    const now = this.world.clock.now();
    const { account, region } = this.world;
    const data: MeshRouteData = {
      meshName,
      virtualRouterName,
      routeName,
      spec: structuredClone(spec),
      metadata: {
        arn: `arn:aws:appmesh:${region}:${account}:mesh/${meshName}/virtualRouter/${virtualRouterName}/route/${routeName}`,
        uid: this.world.newUuid(),
        version: 1,
        createdAt: now,
        lastUpdatedAt: now,
        meshOwner: account,
        resourceOwner: account,
      },
      status: { status: 'ACTIVE' },
    };
    this.routes.set(this.stateKey(input), { data, tags: new Map() });
    const id = { meshName, virtualRouterName, routeName };
    return {
      info: { key: meshRouteKey(id) },
      targets: () => meshTargets(data.spec),
      dimensions: (node) => ({ Mesh: meshName, VirtualNode: node }),
      // A person's edit keeps the rest of the route, and each virtual node's port.
      edit: (targets) => {
        const { field, ...edited } = meshBody(data.spec);
        const ports = new Map(edited.action.weightedTargets.map((t) => [t.virtualNode, t.port]));
        const weightedTargets = targets.map((t) => {
          const port = ports.get(t.id);
          return { virtualNode: t.id, weight: t.weight, ...(port !== undefined ? { port } : {}) };
        });
        const next = { ...data.spec, [field]: { ...edited, action: { ...edited.action, weightedTargets } } };
        this.updateRoute({ ...id, spec: next }, 'person');
      },
    };
  }

  describeRoute(id: MeshRouteId): MeshRouteData {
    return structuredClone(this.route(id).data);
  }

  /** UpdateRoute: the spec given replaces the whole spec, as App Mesh does; the version moves on. */
  updateRoute(input: MeshRouteId & { spec: MeshRouteSpec }, by: Writer = 'reflex'): MeshRouteData {
    const { data } = this.route(input);
    validateMeshSpec(input.spec);
    // The twin's routes are all in meshes of its own account: the key names no owner.
    const targets = meshTargets(input.spec);
    this.observer({ key: meshRouteKey(data), api: 'UpdateRoute', targets }, by);
    data.spec = structuredClone(input.spec);
    data.metadata.version += 1;
    data.metadata.lastUpdatedAt = this.world.clock.now();
    return structuredClone(data);
  }

  /** The tags of a route by its ARN. */
  tagsOf(arn: string): Map<string, string> {
    const state = [...this.routes.values()].find((s) => s.data.metadata.arn === arn);
    if (!state) throw new AwsServiceError('NotFoundException', `Resource ${arn} not found`, 404);
    return state.tags;
  }

  private stateKey(id: MeshRouteId): string {
    return `${id.meshOwner ?? this.world.account}/${id.meshName}/${id.virtualRouterName}/${id.routeName}`;
  }

  private route(id: MeshRouteId): MeshRouteState {
    const state = this.routes.get(this.stateKey(id));
    if (!state)
      throw new AwsServiceError(
        'NotFoundException',
        `Route ${id.routeName} not found in virtual router ${id.virtualRouterName} of mesh ${id.meshName}`,
        404,
      );
    return state;
  }
}

/** The App Mesh commands the App Mesh router sends, over the twin's routes. */
export function appMeshModel(mesh: TwinAppMesh): ServiceModel {
  // UpdateRoute's client tokens: the same request again gets the first answer and changes nothing; the
  // token with another request is refused (ConflictException).
  const tokens = new Map<string, { request: string; answer: { route: MeshRouteData } }>();
  const idOf = (input: MeshRouteId): MeshRouteId => {
    for (const field of ['meshName', 'virtualRouterName', 'routeName'] as const)
      if (!input[field]) throw badRequest(`${field} is required`);
    return input;
  };
  return {
    DescribeRoute: read(
      (input: DescribeRouteInput) => meshRouteKey(input as MeshRouteId),
      (input: DescribeRouteInput) => ({ route: mesh.describeRoute(idOf(input as MeshRouteId)) }),
    ),
    UpdateRoute: write(
      (input: UpdateRouteInput) => `${meshRouteKey(input as MeshRouteId)} ${weightsText(input.spec)}`,
      (input: UpdateRouteInput) => {
        if (input.clientToken !== undefined && input.clientToken.length > 36)
          throw badRequest('clientToken takes at most 36 characters');
        if (!input.spec) throw badRequest('spec is required');
        const id = idOf(input as MeshRouteId);
        const request = JSON.stringify([meshRouteKey(id), input.spec]);
        const seen = input.clientToken ? tokens.get(input.clientToken) : undefined;
        if (seen && seen.request !== request)
          throw new AwsServiceError(
            'ConflictException',
            'The request contains a client token that was used for a previous update resource call with different specifications',
            409,
          );
        if (seen) return structuredClone(seen.answer);
        const answer = { route: mesh.updateRoute({ ...id, spec: input.spec as MeshRouteSpec }) };
        if (input.clientToken) tokens.set(input.clientToken, { request, answer: structuredClone(answer) });
        return answer;
      },
    ),
    ListTagsForResource: read(
      (input: ListTagsForResourceInput) => input.resourceArn ?? '',
      (input: ListTagsForResourceInput) => {
        const tags = [...mesh.tagsOf(input.resourceArn ?? '')].map(([key, value]) => ({ key, value }));
        const found = page(tags, { max: input.limit, token: input.nextToken }, TAG_PAGES);
        return { tags: found.items, ...(found.next ? { nextToken: found.next } : {}) };
      },
    ),
    TagResource: write(
      (input: TagResourceInput) =>
        `${input.resourceArn} ${(input.tags ?? []).map((t) => `${t.key}=${t.value}`).join(',')}`,
      (input: TagResourceInput) => {
        if (!input.tags || input.tags.length === 0) throw badRequest('tags must hold at least one tag');
        const tags = mesh.tagsOf(input.resourceArn ?? '');
        if (new Set([...tags.keys(), ...input.tags.map((t) => t.key)]).size > MAX_TAGS)
          throw new AwsServiceError(
            'TooManyTagsException',
            `${input.resourceArn} would have more than ${MAX_TAGS} tags`,
          );
        for (const tag of input.tags) tags.set(tag.key!, tag.value ?? '');
        return {};
      },
    ),
    UntagResource: write(
      (input: UntagResourceInput) => `${input.resourceArn} ${(input.tagKeys ?? []).join(',')}`,
      (input: UntagResourceInput) => {
        const tags = mesh.tagsOf(input.resourceArn ?? '');
        for (const key of input.tagKeys ?? []) tags.delete(key);
        return {};
      },
    ),
  };
}

const weightsText = (spec: UpdateRouteInput['spec']): string => {
  const field = spec && MESH_ROUTE_FIELDS.find((f) => spec[f] !== undefined);
  const targets = (field && spec[field]?.action?.weightedTargets) || [];
  return targets.map((t) => `${t.virtualNode}=${t.weight}`).join(' ');
};

/** The spec's one route body (httpRoute, http2Route, grpcRoute or tcpRoute) and its field. */
function meshBody(spec: MeshRouteSpec): MeshRouteBody & { field: MeshRouteField } {
  const fields = MESH_ROUTE_FIELDS.filter((f) => spec[f] !== undefined);
  if (fields.length !== 1)
    throw badRequest('A route spec must have exactly one of httpRoute, http2Route, grpcRoute, tcpRoute');
  return { ...spec[fields[0]!]!, field: fields[0]! };
}

/** The spec's weighted targets by virtual node name. */
const meshTargets = (spec: MeshRouteSpec): WeightedTarget[] =>
  meshBody(spec).action.weightedTargets.map((t) => ({ id: t.virtualNode, weight: t.weight }));

/**
 * App Mesh's checks on every write: 1..10 weighted targets, integer weights 0..100 that total at most 100
 * (WeightedTarget in the API reference); no retries on TCP.
 */
function validateMeshSpec(spec: MeshRouteSpec): void {
  const { field, ...body } = meshBody(spec);
  const targets = body.action?.weightedTargets;
  const at = `spec.${field}.action.weightedTargets`;
  if (!Array.isArray(targets) || targets.length < 1 || targets.length > MESH_MAX_TARGETS)
    throw constraintError('BadRequestException', at, {
      constraint: `Member must have length between 1 and ${MESH_MAX_TARGETS}`,
    });
  for (const target of targets) {
    if (typeof target.virtualNode !== 'string' || target.virtualNode === '')
      throw badRequest(`Value at '${at}.member.virtualNode' must not be empty`);
    if (!Number.isInteger(target.weight) || target.weight < 0 || target.weight > MESH_MAX_WEIGHT)
      throw constraintError('BadRequestException', `${at}.member.weight`, {
        value: target.weight,
        constraint: `Member must have value between 0 and ${MESH_MAX_WEIGHT}`,
      });
  }
  const total = targets.reduce((sum, target) => sum + target.weight, 0);
  if (total > MESH_MAX_WEIGHT)
    throw badRequest(
      `The total weight of the weighted targets must be at most ${MESH_MAX_WEIGHT}, not ${total}`,
    );
  if (field === 'tcpRoute' && body.retryPolicy !== undefined)
    throw badRequest('A TCP route has no retry policy');
}
