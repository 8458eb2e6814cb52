// `rollout watch NAME`: polls GET /rollouts/NAME until the run ends. On a terminal it redraws progress bars
// (the canary's weight and the step it is at, numbered as the API numbers it) and what comes next, with each new action of the rollout (an
// analysis result, a shift, a gate) logged above them; piped, it prints a plain line per change; with
// --json, one JSON object per line. 0 when the rollout SUCCEEDED, 1 otherwise.
import type { OpsClient } from './client';
import {
  type Action,
  bar,
  type Output,
  progressText,
  type RolloutView,
  resultText,
  rolloutLine,
  type Style,
  statusText,
  utcTime,
} from './render';

export interface WatchOptions {
  name: string;
  intervalMs: number;
  json: boolean;
  out: Output;
  style: Style;
  sleep: (ms: number) => Promise<void>;
}

/** What the rollout looks like: a change in any of these is a line. */
const stateOf = (view: RolloutView) => ({
  name: view.name,
  status: view.status,
  step: view.step,
  steps: view.steps,
  weights: view.weights,
  next: view.next,
});

interface Renderer {
  update(view: RolloutView, changed: boolean, actions: Action[]): void;
  end(view: RolloutView): void;
}

export async function watchRollout(client: OpsClient, options: WatchOptions): Promise<number> {
  const path = `/rollouts/${encodeURIComponent(options.name)}`;
  const renderer = options.json
    ? jsonRenderer(options.out)
    : options.out.isTTY
      ? terminalRenderer(options.out, options.style)
      : lineRenderer(options.out);
  const seen = new Set<string>();
  let last = '';
  for (;;) {
    const view = await client.get<RolloutView>(path);
    const fresh = (view.history ?? []).filter((a) => {
      const key = `${a.at}|${a.action}|${a.reason}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const state = JSON.stringify(stateOf(view));
    renderer.update(view, state !== last, fresh);
    last = state;
    if (view.status !== 'RUNNING') {
      renderer.end(view);
      return view.status === 'SUCCEEDED' ? 0 : 1;
    }
    await options.sleep(options.intervalMs);
  }
}

/** At a gate, the two commands that answer it, ready to paste. */
const gateCommands = (name: string) =>
  `resume: ecs-reflex rollout resume ${name}   abort: ecs-reflex rollout abort ${name}`;

/** An analysis action's verdict: the structured one when the view's last analysis is this one. */
function analysisOf(action: Action, view: RolloutView) {
  const latest = view.lastAnalysis?.at === action.at ? view.lastAnalysis : undefined;
  return {
    at: action.at,
    result: latest?.result ?? action.reason.split(' ')[0] ?? 'unknown',
    reason: action.reason,
    ...(latest ? { outcomes: latest.outcomes } : {}),
  };
}

function jsonRenderer(out: Output): Renderer {
  const line = (value: unknown) => out.write(`${JSON.stringify(value)}\n`);
  return {
    update(view, changed, actions) {
      for (const action of actions)
        if (action.action === 'analyse') line({ event: 'analysis', ...analysisOf(action, view) });
        else
          line({
            event: 'action',
            at: action.at,
            action: action.action,
            reason: action.reason,
            outcome: action.outcome,
          });
      if (changed) line({ event: 'state', ...stateOf(view) });
    },
    end(view) {
      line({
        event: 'end',
        ...stateOf(view),
        ...(view.stopDate ? { stopDate: view.stopDate } : {}),
        ...(view.error ? { error: view.error } : {}),
        ...(view.cause ? { cause: view.cause } : {}),
        succeeded: view.status === 'SUCCEEDED',
      });
    },
  };
}

function actionLine(action: Action, view: RolloutView, style: Style): string {
  if (action.action === 'analyse') {
    const analysis = analysisOf(action, view);
    const detail = analysis.outcomes?.map(
      (o) => `\n             ${o.check}: ${resultText(o.result, style)} (${o.reason})`,
    );
    return `${style.dim(utcTime(action.at))}  analysis ${resultText(analysis.result, style)}: ${action.reason}${detail?.join('') ?? ''}`;
  }
  return `${style.dim(utcTime(action.at))}  ${action.action}: ${action.reason}`;
}

/** Piped without --json: a plain line per change, nothing redrawn. */
function lineRenderer(out: Output): Renderer {
  const style: Style = { bold: (t) => t, dim: (t) => t, green: (t) => t, red: (t) => t, yellow: (t) => t };
  return {
    update(view, changed, actions) {
      for (const action of actions) out.write(`${actionLine(action, view, style)}\n`);
      if (changed) out.write(`${view.name} ${view.status}  ${rolloutLine(view)}\n`);
      if (changed && view.gate) out.write(`  ${gateCommands(view.name)}\n`);
    },
    end(view) {
      const ended = progressText(view);
      out.write(`rollout ${view.name} ${view.status}${ended ? `: ${ended}` : ''}\n`);
    },
  };
}

const BAR_WIDTH = 30;

/**
 * On a terminal: the block of bars is redrawn in place, and actions scroll above it. Every line of the
 * block is cut to the terminal's width: a wrapped line would throw the redraw off by a line.
 */
function terminalRenderer(out: Output, style: Style): Renderer {
  let drawn = 0;
  const width = Math.max(20, (out.columns || 80) - 1);
  const clip = (text: string) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
  const block = (view: RolloutView) => {
    const canary = view.weights?.canary ?? 0;
    const steps = view.steps ?? 0;
    const step = Math.min(view.step ?? 0, steps);
    const name = clip(view.name).slice(0, width - view.status.length - 2);
    const room = width - name.length - view.status.length - 4;
    const service =
      view.service && room > 3
        ? `  ${view.service.length > room ? `${view.service.slice(0, room - 1)}…` : view.service}`
        : '';
    const ended = view.status === 'RUNNING' ? '' : progressText(view);
    return [
      `${style.bold(name)}  ${statusText(view.status, style)}${service}`,
      `  canary ${bar(canary / 100, BAR_WIDTH, true)} ${String(canary).padStart(3)} %`,
      `  steps  ${bar(steps === 0 ? 0 : step / steps, BAR_WIDTH, true)} ${step}/${steps}`,
      view.status === 'RUNNING'
        ? clip(`  ${progressText(view)}`)
        : `  ${statusText(view.status, style)}${ended ? `: ${ended}` : ''}`,
      ...(view.status === 'RUNNING' && view.gate ? [clip(`  ${gateCommands(view.name)}`)] : []),
    ];
  };
  return {
    update(view, changed, actions) {
      if (!changed && actions.length === 0) return;
      // Back to the block's first line and clear to the end of the screen, then actions, then the block.
      if (drawn > 0) out.write(`\x1b[${drawn}F\x1b[J`);
      for (const action of actions) out.write(`${actionLine(action, view, style)}\n`);
      const lines = block(view);
      out.write(`${lines.join('\n')}\n`);
      drawn = lines.length;
    },
    end() {
      // The block drawn last says how it ended.
    },
  };
}
