// What the alarm reactor remembers about a target, kept in tags on the target itself (the Auto Scaling
// group, or the ECS service): no table to create, and whoever looks at the target sees what the reactor
// changed on it and when.
//
// One tag per reaction with a change in place, `ecs-reflex:reaction:<id>` (empty once the change is
// forgotten), and `ecs-reflex:last-change` (ISO time) for the cooldown. A record reads, for example:
//
//   t=2026-11-02T09:00:00.000Z b=4 s=6 a=web-latency-high
//
// (at, before, set, alarm). Not JSON: ECS refuses tag values with anything but letters, digits, spaces
// and _ . : / = + - @ (its API model's pattern), and both services stop at 256 characters. The alarm
// comes last because it may hold spaces; in it, every character ECS refuses, @ itself (the escape) and
// spaces other than U+0020 are written as @ and the four hex digits of each UTF-16 code unit (`>` is @003e).
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  CreateOrUpdateTagsCommand,
  DescribeTagsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  type ECSClient,
  type Service,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { ScalingKnobNotFound } from '#adapters/aws/scalingControls';
import {
  type KnobValue,
  type ReactionRecord,
  type ScalingTarget,
  type StepAdjustment,
  type TargetMemory,
  targetKey,
} from '#domain/alarmReactions';
import type { ReactionMemoryStore } from '#ports';

export const REACTION_TAG_PREFIX = 'ecs-reflex:reaction:';
export const LAST_CHANGE_TAG = 'ecs-reflex:last-change';
/** A reaction's tag once its record is forgotten: both services take an empty tag value. */
const FORGOTTEN = '';
/** ECS and EC2 Auto Scaling both stop a tag value at 256 characters. */
export const TAG_VALUE_MAX = 256;

/** The record does not fit in one tag value, even encoded compactly (a very long alarm name, many steps). */
export class ReactionRecordTooLarge extends Error {
  override readonly name = 'ReactionRecordTooLarge';
  constructor(
    readonly reactionId: string,
    readonly length: number,
  ) {
    super(
      `the record of reaction ${reactionId} needs ${length} characters; a tag value holds ${TAG_VALUE_MAX}`,
    );
  }
}

export interface MemoryClients {
  autoScaling: Pick<AutoScalingClient, 'send'>;
  ecs: Pick<ECSClient, 'send'>;
}

type ServiceTarget = Extract<ScalingTarget, { kind: 'ecs-service' }>;

export class TagReactionMemory implements ReactionMemoryStore {
  /**
   * Service ARNs seen by load, so save needs no second look (the reactor always loads before it saves).
   * The ARN cannot be built from the names: it needs the account, and old services lack the cluster.
   */
  private readonly serviceArns = new Map<string, string>();

  constructor(private readonly clients: MemoryClients) {}

  async load(target: ScalingTarget): Promise<TargetMemory> {
    const tags =
      target.kind === 'auto-scaling-group'
        ? await this.groupTags(target.name)
        : await this.serviceTags(target);
    return memoryOf(tags);
  }

  async save(
    target: ScalingTarget,
    change: { reactionId: string; record: ReactionRecord | null; lastChangeAt: Date },
  ): Promise<void> {
    const reactionKey = `${REACTION_TAG_PREFIX}${change.reactionId}`;
    // Encoded first: a record that does not fit fails the save before anything is written. A forgotten
    // record is emptied rather than deleted: one write sets it and the last change together (no API sets
    // one tag and deletes another), so there is no half-done forget to finish, and an empty value reads as
    // no record.
    const tags: Record<string, string> = {
      [reactionKey]: change.record ? encodeRecord(change.reactionId, change.record) : FORGOTTEN,
      [LAST_CHANGE_TAG]: change.lastChangeAt.toISOString(),
    };
    if (target.kind === 'auto-scaling-group') {
      await this.setGroupTags(target.name, tags);
    } else {
      await this.setServiceTags(target, tags);
    }
  }

  private async groupTags(groupName: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    let nextToken: string | undefined;
    do {
      const page = await this.clients.autoScaling.send(
        new DescribeTagsCommand({
          Filters: [{ Name: 'auto-scaling-group', Values: [groupName] }],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const tag of page.Tags ?? []) {
        if (tag.Key && tag.ResourceId === groupName) tags[tag.Key] = tag.Value ?? '';
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return tags;
  }

  private async setGroupTags(groupName: string, tags: Record<string, string>): Promise<void> {
    // PropagateAtLaunch false: the reactor's memory belongs to the group, not to its instances.
    await this.clients.autoScaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: Object.entries(tags).map(([key, value]) => ({
          ResourceId: groupName,
          ResourceType: 'auto-scaling-group',
          Key: key,
          Value: value,
          PropagateAtLaunch: false,
        })),
      }),
    );
  }

  private async serviceTags(target: ServiceTarget): Promise<Record<string, string>> {
    return serviceTagsOf(await this.describeService(target));
  }

  /**
   * The service with its tags (DescribeServices, include TAGS), or undefined when it or its cluster does not
   * exist; its ARN is kept for the saves that follow.
   */
  async describeService(target: ServiceTarget): Promise<Service | undefined> {
    const key = targetKey(target);
    let output: DescribeServicesCommandOutput;
    try {
      output = await this.clients.ecs.send(
        new DescribeServicesCommand({
          cluster: target.cluster,
          services: [target.service],
          include: ['TAGS'],
        }),
      );
    } catch (error) {
      // No cluster, no service: nothing remembered.
      if (error instanceof Error && error.name === 'ClusterNotFoundException') return undefined;
      throw error;
    }
    // A missing service comes back in `failures` (reason MISSING), a deleted one with status INACTIVE.
    const service = output.services?.[0];
    if (!service?.serviceArn || service.status === 'INACTIVE') {
      this.serviceArns.delete(key);
      return undefined;
    }
    this.serviceArns.set(key, service.serviceArn);
    return service;
  }

  private async setServiceTags(target: ServiceTarget, tags: Record<string, string>): Promise<void> {
    const resourceArn = await this.serviceArn(target);
    await this.clients.ecs.send(
      new TagResourceCommand({
        resourceArn,
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      }),
    );
  }

  private async serviceArn(target: ServiceTarget): Promise<string> {
    const key = targetKey(target);
    const known = this.serviceArns.get(key);
    if (known) return known;
    await this.serviceTags(target);
    const found = this.serviceArns.get(key);
    if (!found) throw new ScalingKnobNotFound(key);
    return found;
  }
}

/** The memory kept on a group, from the tags DescribeAutoScalingGroups returns with it. */
export function groupMemoryOf(group: AutoScalingGroup | undefined): TargetMemory {
  const tags: Record<string, string> = {};
  for (const tag of group?.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
  return memoryOf(tags);
}

/** The memory kept on a service, from DescribeServices with include TAGS. */
export function serviceMemoryOf(service: Service | undefined): TargetMemory {
  return memoryOf(serviceTagsOf(service));
}

function serviceTagsOf(service: Service | undefined): Record<string, string> {
  return Object.fromEntries(
    (service?.tags ?? []).flatMap((tag) => (tag.key ? [[tag.key, tag.value ?? '']] : [])),
  );
}

// --- tags <-> memory -----------------------------------------------------------------------------------

/** Tags a person may have edited: what does not decode is left out, never thrown. */
export function memoryOf(tags: Record<string, string>): TargetMemory {
  const records: TargetMemory['records'] = {};
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(REACTION_TAG_PREFIX)) continue;
    const record = decodeRecord(value);
    if (record) records[key.slice(REACTION_TAG_PREFIX.length)] = record;
  }
  const lastChangeAt = decodeTime(tags[LAST_CHANGE_TAG]);
  return lastChangeAt ? { records, lastChangeAt } : { records };
}

export function encodeRecord(reactionId: string, record: ReactionRecord): string {
  // p=1 marks a change recorded but not yet written (see decideReaction); it sits before the alarm,
  // which runs to the end of the value.
  const pending = record.pending ? ' p=1' : '';
  const text = `t=${record.at.toISOString()} b=${encodeValue(record.before)} s=${encodeValue(record.set)}${pending} a=${encodeAlarm(record.alarm)}`;
  // UTF-16 units, never fewer than the characters AWS counts: a value this accepts, AWS accepts.
  if (text.length > TAG_VALUE_MAX) throw new ReactionRecordTooLarge(reactionId, text.length);
  return text;
}

export function decodeRecord(text: string): ReactionRecord | undefined {
  const match = /^t=(\S+) b=(\S+) s=(\S+)( p=1)? a=(.+)$/.exec(text);
  if (!match) return undefined;
  const [, at = '', before = '', set = '', pending, alarm = ''] = match;
  const decoded = {
    at: decodeTime(at),
    before: decodeValue(before),
    set: decodeValue(set),
    alarm: decodeAlarm(alarm),
  };
  if (!decoded.at || decoded.before === undefined || decoded.set === undefined) return undefined;
  const record = { alarm: decoded.alarm, before: decoded.before, set: decoded.set, at: decoded.at };
  return pending ? { ...record, pending: true } : record;
}

// Numbers as JavaScript writes them (String(n)), so they read back exactly.
const NUMBER = '-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?';
const NUMBER_ONLY = new RegExp(`^${NUMBER}$`);
const RANGE = new RegExp(`^(${NUMBER})\\.\\.(${NUMBER})$`);
const STEP = new RegExp(`^(${NUMBER})?:(${NUMBER})?:(${NUMBER})$`);
const NO_STEPS = 'none';

/** 4, true, 1..5, or steps lower:upper:adjustment joined by / (an open bound left empty: 0::2/:0:-1). */
function encodeValue(value: KnobValue): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return NO_STEPS;
    return value.map((s) => `${s.lower ?? ''}:${s.upper ?? ''}:${s.adjustment}`).join('/');
  }
  return `${value.min}..${value.max}`;
}

function decodeValue(text: string): KnobValue | undefined {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === NO_STEPS) return [];
  if (NUMBER_ONLY.test(text)) return Number(text);
  const range = RANGE.exec(text);
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  const steps: StepAdjustment[] = [];
  for (const part of text.split('/')) {
    const step = STEP.exec(part);
    if (!step) return undefined;
    // Keys in the domain's order and no undefined ones: values are compared as JSON.
    steps.push({
      ...(step[1] === undefined ? {} : { lower: Number(step[1]) }),
      ...(step[2] === undefined ? {} : { upper: Number(step[2]) }),
      adjustment: Number(step[3]),
    });
  }
  return steps;
}

// What ECS takes in a tag value, less @ (the escape) and spaces other than U+0020 (AWS may trim them).
const PLAIN = /^[\p{L}\p{N}_.:/=+\- ]$/u;

function encodeAlarm(alarm: string): string {
  let text = '';
  for (const char of alarm) {
    if (PLAIN.test(char)) {
      text += char;
      continue;
    }
    for (let i = 0; i < char.length; i++) text += `@${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return text;
}

/** An @ not followed by four hex digits (a person's edit) stays as it is. */
function decodeAlarm(text: string): string {
  return text.replace(/@([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

function decodeTime(text: string | undefined): Date | undefined {
  if (!text || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
