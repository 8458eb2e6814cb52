// App Mesh as the twin answers it: routes of virtual routers with their weighted targets (virtual nodes)
// and their tags, the checks App Mesh makes on every write, and the commands the App Mesh router sends
// (DescribeRoute, UpdateRoute, ListTagsForResource, TagResource, UntagResource). What the routes carry is
// simulated by the traffic (local/twin/traffic.ts), which hears every change of a route's targets.
import type {
  DescribeRouteInput,
  ListTagsForResourceInput,
  TagResourceInput,
  UntagResourceInput,
  UpdateRouteInput,
} from '@aws-sdk/client-app-mesh';
import { routeKey } from '#domain/rolloutRoutes';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';
import type { World } from '#local/twin/world';

export type MeshProtocol = 'http' | 'http2' | 'grpc' | 'tcp';

export interface MeshWeightedTarget {
  virtualNode: string;
  weight: number;
  port?: number;
}

export interface MeshRouteBody {
  action: { weightedTargets: MeshWeightedTarget[] };
  match?: Record<string, unknown>;
  retryPolicy?: Record<string, unknown>;
  timeout?: Record<string, unknown>;
}

export interface MeshRouteSpec {
  priority?: number;
  httpRoute?: MeshRouteBody;
  http2Route?: MeshRouteBody;
  grpcRoute?: MeshRouteBody;
  tcpRoute?: MeshRouteBody;
}

/** A route as DescribeRoute returns it. */
export interface MeshRouteData {
  meshName: string;
  virtualRouterName: string;
  routeName: string;
  spec: MeshRouteSpec;
  metadata: {
    arn: string;
    uid: string;
    version: number;
    createdAt: Date;
    lastUpdatedAt: Date;
    meshOwner: string;
    resourceOwner: string;
  };
  status: { status: 'ACTIVE' };
}

export interface MeshRouteId {
  meshName: string;
  /** The mesh owner's account; absent: this account. */
  meshOwner?: string;
  virtualRouterName: string;
  routeName: string;
}

export const MESH_ROUTE_FIELDS = ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'] as const;
export type MeshRouteField = (typeof MESH_ROUTE_FIELDS)[number];
const FIELD_OF: Record<MeshProtocol, MeshRouteField> = {
  http: 'httpRoute',
  http2: 'http2Route',
  grpc: 'grpcRoute',
  tcp: 'tcpRoute',
};

/** App Mesh's limits on a route's weighted targets, and on a resource's tags. */
const MESH_MAX_TARGETS = 10;
const MESH_MAX_WEIGHT = 100;
const MAX_TAGS = 50;
/** ListTagsForResource's page: `limit` 1..100, 100 without one. */
const MAX_TAGS_PAGE = 100;

/** Who changed a route: the rollout (through the API), or a person by hand (console, CLI). */
export type Writer = 'reflex' | 'person';

/** What hears a route's targets change: the traffic, which counts up to the change first. */
export interface MeshRouteObserver {
  changing(): void;
  written(route: MeshRouteData, by: Writer): void;
}

interface MeshRouteState {
  data: MeshRouteData;
  tags: Map<string, string>;
}

/** routeKey() of an App Mesh route, without a RouteRef: the owner shows only for a mesh shared with us. */
export function meshRouteKey(id: MeshRouteId): string {
  return routeKey({ router: 'appmesh', ...id, stable: '', canary: '' });
}

export class TwinAppMesh {
  private readonly routes = new Map<string, MeshRouteState>();

  constructor(
    private readonly world: World,
    private readonly observer: MeshRouteObserver = { changing: () => undefined, written: () => undefined },
  ) {}

  /** A route as it exists before the scenario starts (not a write). */
  addRoute(input: {
    meshName: string;
    meshOwner?: string;
    virtualRouterName: string;
    routeName: string;
    protocol: MeshProtocol;
    targets: MeshWeightedTarget[];
    match?: Record<string, unknown>;
    retryPolicy?: Record<string, unknown>;
    timeout?: Record<string, unknown>;
    priority?: number;
    tags?: Record<string, string>;
  }): MeshRouteData {
    const owner = input.meshOwner ?? this.world.account;
    const id: MeshRouteId = {
      meshName: input.meshName,
      ...(owner !== this.world.account ? { meshOwner: owner } : {}),
      virtualRouterName: input.virtualRouterName,
      routeName: input.routeName,
    };
    const key = this.stateKey(id);
    if (this.routes.has(key))
      throw new AwsServiceError(
        'ConflictException',
        `Route ${input.routeName} already exists in ${input.virtualRouterName}`,
        409,
      );
    const body: MeshRouteBody = {
      action: { weightedTargets: input.targets.map((t) => ({ ...t })) },
      ...(input.match
        ? { match: input.match }
        : input.protocol === 'tcp'
          ? {}
          : { match: input.protocol === 'grpc' ? { serviceName: input.routeName } : { prefix: '/' } }),
      ...(input.retryPolicy ? { retryPolicy: input.retryPolicy } : {}),
      ...(input.timeout ? { timeout: input.timeout } : {}),
    };
    const spec: MeshRouteSpec = {
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      [FIELD_OF[input.protocol]]: body,
    };
    validateMeshSpec(spec);
    const now = this.world.clock.now();
    const data: MeshRouteData = {
      meshName: input.meshName,
      virtualRouterName: input.virtualRouterName,
      routeName: input.routeName,
      spec: structuredClone(spec),
      metadata: {
        arn: `arn:aws:appmesh:${this.world.region}:${owner}:mesh/${input.meshName}/virtualRouter/${input.virtualRouterName}/route/${input.routeName}`,
        uid: uuidOf(this.world.newId()),
        version: 1,
        createdAt: now,
        lastUpdatedAt: now,
        meshOwner: owner,
        resourceOwner: this.world.account,
      },
      status: { status: 'ACTIVE' },
    };
    this.routes.set(key, { data, tags: new Map(Object.entries(input.tags ?? {})) });
    return structuredClone(data);
  }

  /** The route as it is now (the simulation's view: no copy, not to be changed). */
  current(id: MeshRouteId): MeshRouteData {
    return this.route(id).data;
  }

  describeRoute(id: MeshRouteId): MeshRouteData {
    return structuredClone(this.route(id).data);
  }

  /** UpdateRoute: the spec given replaces the whole spec, as App Mesh does; the version moves on. */
  updateRoute(input: MeshRouteId & { spec: MeshRouteSpec }, by: Writer = 'reflex'): MeshRouteData {
    const state = this.route(input);
    validateMeshSpec(input.spec);
    this.observer.changing();
    state.data.spec = structuredClone(input.spec);
    state.data.metadata.version += 1;
    state.data.metadata.lastUpdatedAt = this.world.clock.now();
    this.observer.written(state.data, by);
    return structuredClone(state.data);
  }

  tagResource(resourceArn: string, tags: { key: string; value?: string }[]): void {
    const state = this.routeByArn(resourceArn);
    const next = new Map(state.tags);
    for (const tag of tags) next.set(tag.key, tag.value ?? '');
    if (next.size > MAX_TAGS)
      throw new AwsServiceError(
        'TooManyTagsException',
        `${resourceArn} would have more than ${MAX_TAGS} tags`,
      );
    state.tags = next;
  }

  untagResource(resourceArn: string, tagKeys: string[]): void {
    const state = this.routeByArn(resourceArn);
    for (const key of tagKeys) state.tags.delete(key);
  }

  listTagsForResource(resourceArn: string): { key: string; value: string }[] {
    return [...this.routeByArn(resourceArn).tags].map(([key, value]) => ({ key, value }));
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

  private routeByArn(arn: string): MeshRouteState {
    const state = [...this.routes.values()].find((s) => s.data.metadata.arn === arn);
    if (!state) throw new AwsServiceError('NotFoundException', `Resource ${arn} not found`, 404);
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
      if (!input[field]) throw new AwsServiceError('BadRequestException', `${field} is required`);
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
          throw new AwsServiceError('BadRequestException', 'clientToken takes at most 36 characters');
        if (!input.spec) throw new AwsServiceError('BadRequestException', 'spec is required');
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
        const limit = input.limit ?? MAX_TAGS_PAGE;
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TAGS_PAGE)
          throw new AwsServiceError('BadRequestException', `limit must be between 1 and ${MAX_TAGS_PAGE}`);
        const tags = mesh.listTagsForResource(input.resourceArn ?? '');
        const from = input.nextToken ? Number(input.nextToken) : 0;
        if (!Number.isInteger(from) || from < 0 || from > tags.length)
          throw new AwsServiceError('BadRequestException', `invalid nextToken ${input.nextToken}`);
        const page = tags.slice(from, from + limit);
        const next = from + limit < tags.length ? String(from + limit) : undefined;
        return { tags: page, ...(next ? { nextToken: next } : {}) };
      },
    ),
    TagResource: write(
      (input: TagResourceInput) =>
        `${input.resourceArn} ${(input.tags ?? []).map((t) => `${t.key}=${t.value}`).join(',')}`,
      (input: TagResourceInput) => {
        if (!input.tags || input.tags.length === 0)
          throw new AwsServiceError('BadRequestException', 'tags must hold at least one tag');
        mesh.tagResource(input.resourceArn ?? '', input.tags as { key: string; value?: string }[]);
        return {};
      },
    ),
    UntagResource: write(
      (input: UntagResourceInput) => `${input.resourceArn} ${(input.tagKeys ?? []).join(',')}`,
      (input: UntagResourceInput) => {
        mesh.untagResource(input.resourceArn ?? '', input.tagKeys ?? []);
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

export function meshField(spec: MeshRouteSpec): MeshRouteField {
  const fields = MESH_ROUTE_FIELDS.filter((f) => spec[f] !== undefined);
  if (fields.length !== 1)
    throw new AwsServiceError(
      'BadRequestException',
      'A route spec must have exactly one of httpRoute, http2Route, grpcRoute, tcpRoute',
    );
  return fields[0]!;
}

export function meshBody(spec: MeshRouteSpec): MeshRouteBody {
  return spec[meshField(spec)]!;
}

export const meshIdOf = (data: MeshRouteData): MeshRouteId => ({
  meshName: data.meshName,
  meshOwner: data.metadata.meshOwner,
  virtualRouterName: data.virtualRouterName,
  routeName: data.routeName,
});

/** App Mesh's checks on every write: 1..10 weighted targets, integer weights 0..100; no retries on TCP. */
function validateMeshSpec(spec: MeshRouteSpec): void {
  const field = meshField(spec);
  const body = spec[field]!;
  const targets = body.action?.weightedTargets;
  const at = `spec.${field}.action.weightedTargets`;
  if (!Array.isArray(targets) || targets.length < 1 || targets.length > MESH_MAX_TARGETS)
    throw new AwsServiceError(
      'BadRequestException',
      `1 validation error detected: Value at '${at}' failed to satisfy constraint: Member must have length between 1 and ${MESH_MAX_TARGETS}`,
    );
  for (const target of targets) {
    if (typeof target.virtualNode !== 'string' || target.virtualNode === '')
      throw new AwsServiceError(
        'BadRequestException',
        `Value at '${at}.member.virtualNode' must not be empty`,
      );
    if (!Number.isInteger(target.weight) || target.weight < 0 || target.weight > MESH_MAX_WEIGHT)
      throw new AwsServiceError(
        'BadRequestException',
        `1 validation error detected: Value '${target.weight}' at '${at}.member.weight' failed to satisfy constraint: Member must have value between 0 and ${MESH_MAX_WEIGHT}`,
      );
  }
  if (field === 'tcpRoute' && body.retryPolicy !== undefined)
    throw new AwsServiceError('BadRequestException', 'A TCP route has no retry policy');
}

function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
