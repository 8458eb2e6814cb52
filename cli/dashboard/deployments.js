// The dashboard's Deployments tab: the ECS native deployments of the services the deployment hook serves
// (GET /deployments), each with a row per stage the hook answered at (its answer, a mark per analysis with
// its numbers on hover, the gate, the reason), the hook's verdict, and at a waiting gate the Resume and
// Abort buttons (POST /deployments/{cluster}/{service}/{id}/resume|abort, as the CLI's `deployment resume`).
// Polled only while the tab is shown. Everything from the API goes in as text, never as HTML; revisions and
// ids short on the page, the full ARN in the title; times in UTC, zone written.
'use strict';

(() => {
  const { $, span, lastPart, utc, timeElement } = window.ecsReflexPage;
  const params = new URLSearchParams(location.search);
  const POLL_MS = Math.max(100, Number(params.get('every')) || 2000);
  const state = { timer: 0, shown: false, seq: 0 };

  document.addEventListener('ecs-reflex:tab', (event) => {
    state.shown = event.detail === 'deployments';
    clearTimeout(state.timer);
    if (state.shown) void refresh();
  });

  async function call(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`/api${path}`, init);
    const data = await response.json().catch(() => undefined);
    if (!response.ok) throw new Error(`${data?.title ?? 'HTTP'} (${response.status}): ${data?.detail ?? ''}`);
    return data;
  }

  async function refresh() {
    const seq = ++state.seq;
    try {
      const { deployments, truncated } = await call('GET', '/deployments');
      if (seq !== state.seq) return;
      render(deployments);
      $('deployment-list-truncated').hidden = truncated !== true;
      $('deployments-status').hidden = true;
    } catch (error) {
      $('deployments-status').textContent = error.message;
      $('deployments-status').hidden = false;
    } finally {
      if (seq === state.seq) {
        clearTimeout(state.timer);
        if (state.shown) state.timer = setTimeout(refresh, POLL_MS);
      }
    }
  }

  // --- a deployment ------------------------------------------------------------------------------------------

  function render(deployments) {
    $('deployment-list').replaceChildren(...deployments.map(deploymentPanel));
    $('deployment-list-none').hidden = deployments.length > 0;
  }

  function deploymentPanel(d) {
    const panel = document.createElement('article');
    panel.dataset.testid = `deployment-${d.id}`;
    panel.dataset.status = d.status;
    const title = document.createElement('h3');
    title.append(
      span(`${d.cluster}/${d.service}`, ''),
      span(d.id, 'name', d.arn),
      span(d.strategy ?? '', ''),
      span(d.status, d.status, d.statusReason),
      span(d.lifecycleStage ? `at ${d.lifecycleStage}` : '', ''),
    );
    panel.append(title);
    if (d.gate) panel.append(gateBanner(d));
    const facts = document.createElement('dl');
    const fact = (name, ...value) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.dataset.testid = `deployment-${name.replaceAll(' ', '-')}`;
      dd.append(...value);
      facts.append(dt, dd);
    };
    fact(
      'revisions',
      ...d.sourceRevisions.flatMap((s) => [revision(s), ', ']).slice(0, -1),
      d.sourceRevisions.length ? ' → ' : 'none → ',
      revision(d.targetRevision),
    );
    if (d.createdAt)
      fact(
        'times',
        'created ',
        timeElement(d.createdAt),
        ...(d.finishedAt ? [', finished ', timeElement(d.finishedAt)] : []),
      );
    if (d.statusReason) fact('ECS says', d.statusReason);
    // A failed or doubtful analysis says what it measured, without hovering.
    const last = d.stages.flatMap((s) => s.analyses).at(-1);
    if (last && last.result !== 'pass')
      fact(
        'last analysis',
        span(last.result, `mark ${last.result}`),
        ' at ',
        timeElement(last.at),
        `: ${last.outcomes
          .filter((o) => o.result !== 'pass')
          .map(outcomeText)
          .join('; ')}`,
      );
    if (d.verdict)
      fact(
        'verdict',
        span(d.verdict.hookStatus, d.verdict.hookStatus),
        ` at ${d.verdict.stage}, `,
        timeElement(d.verdict.at),
        `: ${d.verdict.reason}`,
      );
    panel.append(facts, stagesTable(d));
    return panel;
  }

  const revision = (share) =>
    span(
      `${lastPart(share.arn)} (${share.productionWeight} % prod, ${share.testWeight} % test)`,
      'name',
      share.arn,
    );

  function stagesTable(d) {
    const table = document.createElement('table');
    const head = document.createElement('thead');
    const names = document.createElement('tr');
    for (const name of ['stage', 'hook', 'analyses', 'gate', 'last answer', 'reason']) {
      const th = document.createElement('th');
      th.textContent = name;
      names.append(th);
    }
    head.append(names);
    const body = document.createElement('tbody');
    for (const s of d.stages) {
      const row = document.createElement('tr');
      row.dataset.testid = `stage-${d.id}-${s.stage}`;
      row.dataset.answer = s.answer;
      row.dataset.results = s.analyses.map((a) => a.result).join(',');
      if (s.gate) row.dataset.gate = s.gate.status;
      for (const cell of [
        span(s.stage, 'nowrap'),
        span(s.answer, `nowrap ${s.answer}`),
        s.analyses.map(analysisMark),
        s.gate ? gateText(s.gate) : '',
        timeElement(s.lastAt),
        s.reason,
      ]) {
        const td = document.createElement('td');
        td.append(...(Array.isArray(cell) ? cell : [cell]));
        row.append(td);
      }
      body.append(row);
    }
    if (d.stages.length === 0) {
      const row = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 6;
      td.textContent = 'The hook has not answered yet.';
      row.append(td);
      body.append(row);
    }
    table.append(head, body);
    return table;
  }

  /** ● pass, ✕ fail, ○ inconclusive or error: the checks and their numbers on hover. */
  function analysisMark(analysis) {
    const symbol = { pass: '●', fail: '✕' }[analysis.result] ?? '○';
    const checks = analysis.outcomes.map(outcomeText);
    const mark = span(
      symbol,
      `mark ${analysis.result}`,
      `${utc(analysis.at)}: ${analysis.result}\n${checks.join('\n')}`,
    );
    mark.dataset.result = analysis.result;
    return mark;
  }

  /** `errors: fail; canary errorRate 20.00 % above 5.00 % (canary 0.2, stable 0.0008333, limit 0.05)` */
  function outcomeText(o) {
    const numbers = ['canary', 'stable', 'limit']
      .filter((key) => o[key] !== undefined)
      .map((key) => `${key} ${Number(o[key].toPrecision(4))}`);
    return `${o.check}: ${o.result}; ${o.reason}${numbers.length ? ` (${numbers.join(', ')})` : ''}`;
  }

  function gateText(gate) {
    if (gate.status === 'waiting') return ['waiting since ', timeElement(gate.openedAt)];
    if (gate.status === 'timed-out') return 'timed out: nobody answered';
    return [`${gate.status} by ${gate.by}`, ...(gate.at ? [' at ', timeElement(gate.at)] : [])];
  }

  // --- the gate waiting now --------------------------------------------------------------------------------

  function gateBanner(d) {
    const banner = document.createElement('div');
    banner.className = 'banner';
    banner.dataset.testid = 'deployment-gate';
    const why = document.createElement('p');
    why.append(
      strong('Waiting for a person: '),
      `the deployment hook holds ${d.gate.stage} since `,
      timeElement(d.gate.openedAt),
    );
    const left = document.createElement('p');
    left.dataset.testid = 'deployment-gate-left';
    left.dataset.secondsLeft = String(d.gate.secondsLeft ?? 0);
    left.append(
      'The hook fails (ECS rolls back) at ',
      timeElement(d.gate.timesOutAt),
      ` (${duration(d.gate.secondsLeft ?? 0)} left) unless someone answers.`,
    );
    banner.append(why, left);
    if (d.gate.answered) {
      const answered = document.createElement('p');
      answered.append(
        `${d.gate.answered.decision} by ${d.gate.answered.by} at `,
        timeElement(d.gate.answered.at),
        ': the hook reads it at its next invocation.',
      );
      banner.append(answered);
    }
    const buttons = document.createElement('div');
    buttons.className = 'buttons';
    for (const [verb, label] of [
      ['resume', 'Resume the deployment'],
      ['abort', 'Abort: ECS rolls back'],
    ]) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = label;
      button.dataset.testid = `deployment-${verb}`;
      button.disabled = d.gate.answered !== undefined;
      button.addEventListener('click', () => void answer(d, verb));
      buttons.append(button);
    }
    banner.append(buttons);
    return banner;
  }

  async function answer(d, verb) {
    const result = $('deployment-result');
    const path = `/deployments/${[d.cluster, d.service, d.id].map(encodeURIComponent).join('/')}/${verb}`;
    try {
      const accepted = await call('POST', path, {});
      result.className = 'message';
      result.textContent = `${accepted.status}: ${accepted.detail}`;
    } catch (error) {
      result.className = 'message refused';
      result.textContent = error.message;
    }
    void refresh();
  }

  // --- small helpers ----------------------------------------------------------------------------------------

  function strong(text) {
    const node = document.createElement('strong');
    node.textContent = text;
    return node;
  }

  function duration(seconds) {
    const h = Math.floor(seconds / 3600);
    const min = Math.floor((seconds % 3600) / 60);
    return h > 0 ? `${h} h ${min} min` : min > 0 ? `${min} min ${seconds % 60} s` : `${seconds} s`;
  }
})();
