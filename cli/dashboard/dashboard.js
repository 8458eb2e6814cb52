// The ecs-reflex dashboard's script: polls the ops API through the signing proxy (/api/*), draws what it
// answers, and sends what the buttons and the form ask for. Plain browser JavaScript, no build step.
// Everything shown comes from the API as text (textContent), never as HTML.
'use strict';

(() => {
  const { $, span, utc, timeElement } = window.ecsReflexPage;
  const params = new URLSearchParams(location.search);
  /** Every 2 s; `?every=MS` changes it (tests poll faster). */
  const POLL_MS = Math.max(100, Number(params.get('every')) || 2000);
  const SVG = 'http://www.w3.org/2000/svg';
  const CHART = { width: 420, height: 150, left: 44, right: 12, top: 12, bottom: 24 };

  /**
   * A request for the start form on one of the configured routes (GET /routes: rollouts run on those only),
   * with linear steps and, on an ALB route, the 5xx rate and p99 latency of canary against stable.
   */
  function templateFor(named) {
    const route = named.route;
    const service = named.services?.stable?.service ?? named.name;
    const request = {
      service,
      route,
      schedule: { kind: 'linear', stepWeight: 20, maxWeight: 60, intervalSeconds: 180 },
      gates: [],
    };
    if (route.router !== 'alb') return request;
    // The names CloudWatch's ALB metrics take: `app/<lb>/<id>` and `targetgroup/<name>/<id>`.
    const source = {
      kind: 'alb',
      loadBalancer: route.listenerArn.replace(/^.*:listener\/(app\/[^/]+\/[^/]+)\/.*$/, '$1'),
      stableTargetGroup: route.stable.replace(/^.*:/, ''),
      canaryTargetGroup: route.canary.replace(/^.*:/, ''),
    };
    const checks = [
      { name: '5xx rate', kind: 'errorRate', source, minRequests: 200, max: 0.01 },
      {
        name: 'p99 latency',
        kind: 'latency',
        source,
        minRequests: 200,
        percentile: 99,
        maxRelativeToStable: 1.5,
      },
    ];
    return { ...request, analysis: { checks } };
  }

  /** The start form offers the configured routes; the request box starts from the first one. */
  async function offerRoutes() {
    try {
      const { routes } = await api('GET', '/routes');
      state.routes = routes;
      const select = $('start-route');
      select.replaceChildren(
        ...routes.map((r) => {
          const option = document.createElement('option');
          option.value = r.name;
          option.textContent = `${r.name} (${r.route.router}: ${shortName(r.route.stable)} → ${shortName(r.route.canary)})`;
          option.title = r.key;
          return option;
        }),
      );
      const fill = () => {
        const named = routes.find((r) => r.name === select.value);
        if (named) $('start-request').value = JSON.stringify(templateFor(named), null, 2);
      };
      select.addEventListener('change', fill);
      fill();
      $('no-routes').hidden = routes.length > 0;
    } catch (error) {
      show($('start-result'), `the configured routes could not be read: ${error.message}`, true);
    }
  }

  const state = {
    selected: decodeURIComponent(location.hash.replace(/^#/, '')) || undefined,
    timer: 0,
    seq: 0,
    /** The configured routes (GET /routes), which name route keys on the page. */
    routes: [],
  };

  // --- the API, through the proxy ---------------------------------------------------------------------

  /** The answer's JSON; a refusal throws with the problem document's title, status and detail. */
  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`/api${path}`, init);
    const text = await response.text();
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const problem = data && typeof data.detail === 'string' ? data : undefined;
      const fields = (problem?.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
      const message = problem
        ? `${problem.title} (${response.status}): ${problem.detail}${fields ? ` [${fields}]` : ''}`
        : `HTTP ${response.status}: ${text.slice(0, 200)}`;
      throw new Error(message);
    }
    return data;
  }

  // --- polling ----------------------------------------------------------------------------------------

  /** One poll; a newer one (after a click) wins, and only one timer is ever left waiting. */
  async function refresh() {
    const seq = ++state.seq;
    try {
      const [{ rollouts }, { actions }] = await Promise.all([
        api('GET', '/rollouts'),
        api('GET', '/actions?limit=20'),
      ]);
      if (!state.selected || !rollouts.some((r) => r.name === state.selected))
        state.selected = (rollouts.find((r) => r.status === 'RUNNING') ?? rollouts[0])?.name;
      const view = state.selected
        ? await api('GET', `/rollouts/${encodeURIComponent(state.selected)}`)
        : undefined;
      const services = await servicesView();
      if (seq !== state.seq) return;
      showRollouts(rollouts);
      showRollout(view);
      showActions(actions);
      showServices(services);
      connection(`updated ${utc(new Date().toISOString())}`, false);
    } catch (error) {
      if (seq === state.seq) connection(error.message, true);
    } finally {
      clearTimeout(state.timer);
      state.timer = setTimeout(refresh, POLL_MS);
    }
  }

  function connection(text, failing) {
    const element = $('connection');
    element.textContent = text;
    element.classList.toggle('failing', failing);
  }

  // --- the rollouts list ------------------------------------------------------------------------------

  function showRollouts(rollouts) {
    const body = $('rollout-list');
    body.replaceChildren(
      ...rollouts.map((r) => {
        const row = tr([r.name, statusCell(r.status), timeElement(r.startDate)]);
        row.dataset.testid = `rollout-row-${r.name}`;
        row.dataset.name = r.name;
        row.dataset.status = r.status;
        row.classList.toggle('selected', r.name === state.selected);
        row.addEventListener('click', () => select(r.name));
        return row;
      }),
    );
    $('no-rollouts').hidden = rollouts.length > 0;
  }

  function select(name) {
    state.selected = name;
    location.hash = encodeURIComponent(name);
    void refresh();
  }

  // --- one rollout ------------------------------------------------------------------------------------

  function showRollout(view) {
    const section = $('rollout');
    section.hidden = view === undefined;
    if (!view) return;
    section.dataset.name = view.name;
    section.dataset.status = view.status;
    $('rollout-name').textContent = view.name;
    $('rollout-status').replaceChildren(
      statusCell(view.status),
      view.error ? ` ${view.error}${view.cause ? `: ${view.cause}` : ''}` : '',
    );
    $('rollout-service').replaceChildren(...serviceAndRoute(view));
    // The API's numbering (1-based, the gate's "after step N" the same number), as `watch` prints it.
    $('rollout-step').textContent =
      view.step !== undefined && view.steps !== undefined ? `${view.step} of ${view.steps}` : '–';
    const weights = $('rollout-weights');
    weights.textContent = view.weights
      ? `${view.weights.canary} % canary, ${view.weights.stable} % stable`
      : '–';
    weights.dataset.canary = view.weights ? String(view.weights.canary) : '';
    $('rollout-next').textContent = view.status === 'RUNNING' ? (view.next ?? '–') : '–';
    const last = view.lastAnalysis;
    $('rollout-analysis').replaceChildren(
      ...(last
        ? [
            statusCell(last.result),
            ' at ',
            timeElement(last.at),
            ': ',
            last.outcomes.map((o) => `${o.check} ${o.result} (${o.reason})`).join('; ') || 'no checks',
          ]
        : ['none yet']),
    );
    // Each button only where the API would take it: resume answers a gate, pause is for a run not at one.
    const running = view.status === 'RUNNING';
    const atGate = running && view.gate !== undefined;
    const accepts = { promote: running, abort: running, pause: running && !atGate, resume: atGate };
    for (const button of document.querySelectorAll('button[data-verb]'))
      button.disabled = !accepts[button.dataset.verb];
    showGate(atGate ? view.gate : undefined);
    drawWeights(view);
    drawAnalyses(view);
  }

  /** What a gate waits for, since when, and how long is left before it rolls back on its own. */
  function showGate(gate) {
    $('gate-banner').hidden = gate === undefined;
    if (!gate) return;
    $('gate-reason').textContent = gate.reason;
    $('gate-banner').dataset.afterStep = String(gate.afterStep);
    // The times come with the gate's journal line, which may reach the API a poll later.
    $('gate-since').replaceChildren(gate.since ? timeElement(gate.since) : 'just now');
    $('gate-deadline').replaceChildren(gate.rollsBackAt ? timeElement(gate.rollsBackAt) : 'its gate timeout');
    const minutes = Math.round((gate.secondsLeft ?? 0) / 60);
    $('gate-left').textContent = `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  /** The canary weight after each move of the rollout's history, then the weight its route holds now. */
  function weightPoints(view) {
    const points = [];
    for (const a of view.history) {
      const at = Date.parse(a.at);
      const detail = a.detail ?? {};
      const done = a.outcome === 'done';
      if (a.action === 'start-rollout') points.push({ at, canary: detail.from?.canary ?? 0 });
      else if (a.action === 'manual-weight-change') points.push({ at, canary: detail.observed?.canary });
      else if (done && a.action === 'shift-traffic')
        points.push({ at, canary: detail.to?.canary ?? percentIn(a.reason) });
      else if (done && a.action === 'promote') points.push({ at, canary: 100 });
      else if (done && a.action === 'rollback') points.push({ at, canary: 0 });
    }
    if (points.length === 0) points.push({ at: Date.parse(view.startDate), canary: 0 });
    if (view.weights) {
      const times = [...view.history.map((a) => Date.parse(a.at)), Date.parse(view.startDate)];
      const end = view.stopDate ? Date.parse(view.stopDate) : Math.max(...times);
      points.push({ at: Math.max(end, points.at(-1).at), canary: view.weights.canary, now: true });
    }
    return points.filter((p) => Number.isFinite(p.canary));
  }

  function percentIn(text) {
    const match = /(\d+)% canary/.exec(text);
    return match ? Number(match[1]) : Number.NaN;
  }

  function drawWeights(view) {
    const points = weightPoints(view);
    const svg = $('weight-chart');
    svg.dataset.weights = points.map((p) => p.canary).join(',');
    svg.dataset.points = JSON.stringify(
      points.map((p) => ({ at: new Date(p.at).toISOString(), canary: p.canary })),
    );
    draw(svg, { max: 100, format: (v) => `${v} %` }, [
      { name: 'canary', step: true, points: points.map((p) => ({ at: p.at, value: p.canary })) },
    ]);
  }

  /**
   * One chart per metric check, from the `analyse` actions' outcomes. An analysis judges the window since
   * the step's shift or the analysis before it, so each value is drawn held over that window (a jump shows
   * as a jump); with it the limit the canary was held to, and the verdict at each analysis.
   */
  function drawAnalyses(view) {
    const byCheck = new Map();
    let windowStart = Date.parse(view.startDate);
    for (const a of view.history) {
      const at = Date.parse(a.at);
      if (a.action === 'shift-traffic') windowStart = at;
      if (a.action !== 'analyse') continue;
      for (const o of a.detail?.outcomes ?? []) {
        const points = byCheck.get(o.check) ?? [];
        points.push({ ...o, from: Math.min(windowStart, at), at });
        byCheck.set(o.check, points);
      }
      windowStart = at;
    }
    $('analysis-charts').replaceChildren(
      ...[...byCheck]
        // Alarm and target-health checks have verdicts but no values: the history lists them.
        .filter(([, points]) => points.some((p) => isNumber(p.canary)))
        .map(([check, points]) => checkChart(check, points)),
    );
  }

  const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

  /** Shapes that tell verdicts apart without colour too. */
  const VERDICT_MARK = { pass: '●', fail: '✕', inconclusive: '○', error: '○' };

  function checkChart(check, points) {
    const format = unitOf(points);
    const values = points.flatMap((p) => [p.canary, p.stable, p.limit]).filter(isNumber);
    const svg = el('svg', { class: 'chart', viewBox: `0 0 ${CHART.width} ${CHART.height}`, role: 'img' });
    svg.setAttribute('aria-label', `${check}: canary against stable and the limit, per analysis`);
    svg.dataset.testid = 'analysis-chart';
    svg.dataset.check = check;
    const list = (key) => points.map((p) => (isNumber(p[key]) ? p[key] : '')).join(',');
    svg.dataset.canary = points
      .filter((p) => isNumber(p.canary))
      .map((p) => p.canary)
      .join(',');
    svg.dataset.stable = points
      .filter((p) => isNumber(p.stable))
      .map((p) => p.stable)
      .join(',');
    svg.dataset.limit = list('limit');
    svg.dataset.verdicts = points.map((p) => p.result).join(',');
    const times = points.flatMap((p) => [p.from, p.at]);
    const max = niceMax(Math.max(...values));
    svg.dataset.max = String(max);
    const { x, y, parts } = frame({ max, format }, times);
    const limits = points.filter((p) => isNumber(p.limit));
    // A fixed limit is one line across the chart; one relative to stable moves with each analysis.
    const fixed = limits.length > 0 && limits.every((p) => p.limit === limits[0].limit);
    const across = `M${CHART.left} ${round(y(limits[0]?.limit ?? 0))} H${CHART.width - CHART.right}`;
    // Stable under canary, wider and dashed: where they are equal both stay visible.
    for (const name of ['limit', 'stable', 'canary']) {
      const d = name === 'limit' && fixed ? across : heldPath(points, name, x, y);
      if (d) parts.push(el('path', { class: name, d }));
    }
    if (limits.length > 0) {
      const last = limits.at(-1);
      parts.push(
        text(
          `limit ${format(last.limit)}`,
          CHART.width - CHART.right - 2,
          y(last.limit) - 3,
          'end',
          'limit-label',
        ),
      );
    }
    for (const p of points) {
      const valued = isNumber(p.canary);
      const mark = verdictMark(p.result, x(p.at), valued ? y(p.canary) : y(0));
      mark.dataset.verdict = p.result;
      mark.dataset.at = new Date(p.at).toISOString();
      const title = el('title', {});
      const measured = [
        valued ? `canary ${format(p.canary)}` : 'no canary value',
        isNumber(p.stable) ? `stable ${format(p.stable)}` : '',
        isNumber(p.limit) ? `limit ${format(p.limit)}` : '',
      ].filter(Boolean);
      title.textContent = `${check} at ${utc(new Date(p.at).toISOString())}: ${p.result}; ${measured.join(', ')} (${p.reason})`;
      mark.append(title);
      parts.push(mark);
    }
    svg.replaceChildren(...parts);
    const caption = document.createElement('figcaption');
    caption.className = 'legend';
    caption.append(
      `${check}: `,
      span('━ canary', 'canary'),
      ' ',
      span('┅ stable', 'stable'),
      ' ',
      span('┄ limit', 'limit'),
      '  ',
      ...['pass', 'fail', 'inconclusive'].flatMap((r) => [
        span(`${VERDICT_MARK[r]} ${r}`, `verdict-${r}`),
        ' ',
      ]),
    );
    const figure = document.createElement('figure');
    figure.append(svg, caption);
    return figure;
  }

  /**
   * A path of horizontal runs, one per analysis with a `key` value, over the window it judged, joined by
   * vertical moves where windows meet: steps, never slopes.
   */
  function heldPath(points, key, x, y) {
    let d = '';
    let end;
    for (const p of points) {
      if (!isNumber(p[key])) {
        end = undefined;
        continue;
      }
      const [from, to, level] = [x(p.from), x(p.at), y(p[key])].map(round);
      d += end === from ? ` V${level} H${to}` : `${d ? ' ' : ''}M${from} ${level} H${to}`;
      end = to;
    }
    return d;
  }

  const round = (value) => Math.round(value * 10) / 10;

  function verdictMark(result, cx, cy) {
    const mark = el('g', { class: `verdict verdict-${result}` });
    if (result === 'fail')
      mark.append(
        el('path', {
          d: `M${cx - 5} ${cy - 5} L${cx + 5} ${cy + 5} M${cx - 5} ${cy + 5} L${cx + 5} ${cy - 5}`,
        }),
      );
    else mark.append(el('circle', { cx, cy, r: result === 'pass' ? 3.5 : 4 }));
    return mark;
  }

  /** Error rates are shares (shown as %), latencies milliseconds: the outcomes' reasons name the kind. */
  function unitOf(points) {
    const reasons = points.map((p) => p.reason).join(' ');
    if (/errorRate/.test(reasons)) return (v) => `${(v * 100).toFixed(2)} %`;
    if (/latency/.test(reasons)) return (v) => `${Math.round(v)} ms`;
    return (v) => String(Math.round(v * 100) / 100);
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const magnitude = 10 ** Math.floor(Math.log10(value));
    return [1, 2, 5, 10].map((f) => f * magnitude).find((m) => m >= value) ?? value;
  }

  // --- SVG charts -----------------------------------------------------------------------------------

  /** Axes from 0 to `max` over `times` (epoch ms), labelled; the scales, and the parts drawn so far. */
  function frame({ max, format }, times) {
    const first = Math.min(...times);
    const last = Math.max(...times);
    const span = last > first ? last - first : 60_000;
    const inner = { w: CHART.width - CHART.left - CHART.right, h: CHART.height - CHART.top - CHART.bottom };
    const x = (at) => CHART.left + ((at - (last > first ? first : first - span / 2)) / span) * inner.w;
    const y = (value) => CHART.top + inner.h - (Math.min(value, max) / max) * inner.h;
    const parts = [
      el('line', { class: 'axis', x1: CHART.left, y1: y(0), x2: CHART.width - CHART.right, y2: y(0) }),
      el('line', { class: 'axis', x1: CHART.left, y1: y(0), x2: CHART.left, y2: y(max) }),
      text(format(max), CHART.left - 4, y(max) + 4, 'end'),
      text(format(0), CHART.left - 4, y(0) + 4, 'end'),
    ];
    if (times.length > 0) {
      parts.push(text(utc(new Date(first).toISOString()), CHART.left, CHART.height - 6, 'start', 'time'));
      if (last > first)
        parts.push(
          text(utc(new Date(last).toISOString()), CHART.width - CHART.right, CHART.height - 6, 'end', 'time'),
        );
    }
    return { x, y, parts };
  }

  /** Lines over time, y from 0 to `max`; a `step` series holds each value until the next one. */
  function draw(svg, { max, format }, series) {
    const { x, y, parts } = frame(
      { max, format },
      series.flatMap((s) => s.points.map((p) => p.at)),
    );
    for (const s of series) {
      const coords = [];
      s.points.forEach((p, i) => {
        if (s.step && i > 0) coords.push([x(p.at), y(s.points[i - 1].value)]);
        coords.push([x(p.at), y(p.value)]);
      });
      if (coords.length > 1)
        parts.push(el('polyline', { class: s.name, points: coords.map((c) => c.join(',')).join(' ') }));
      for (const p of s.points) {
        const dot = el('circle', { class: s.name, cx: x(p.at), cy: y(p.value), r: 3 });
        dot.dataset.series = s.name;
        dot.dataset.value = String(p.value);
        dot.dataset.at = new Date(p.at).toISOString();
        const title = el('title', {});
        title.textContent = `${s.name} ${format(p.value)} at ${utc(new Date(p.at).toISOString())}`;
        dot.append(title);
        parts.push(dot);
      }
    }
    svg.replaceChildren(...parts);
  }

  function el(name, attributes) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    return node;
  }

  function text(content, x, y, anchor, className) {
    const node = el('text', { x, y, 'text-anchor': anchor, ...(className ? { class: className } : {}) });
    node.textContent = content;
    return node;
  }

  // --- services and their targets' health -------------------------------------------------------------

  /** At most this many services are shown: the page is a glance, the CLI and the API have the rest. */
  const MAX_SERVICES = 20;

  /** Each configured cluster's services, their counts and deployments, and their target groups' health. */
  async function servicesView() {
    const { clusters } = await api('GET', '/clusters');
    const names = (
      await Promise.all(
        clusters.map(async (cluster) =>
          (
            await api('GET', `/services/${encodeURIComponent(cluster)}`)
          ).services.map((service) => ({ cluster, service })),
        ),
      )
    )
      .flat()
      .slice(0, MAX_SERVICES);
    return Promise.all(
      names.map(async ({ cluster, service }) => {
        const view = await api(
          'GET',
          `/services/${encodeURIComponent(cluster)}/${encodeURIComponent(service)}`,
        );
        const groups = await Promise.all(
          view.targetGroups.map((arn) => api('GET', `/target-groups?arn=${encodeURIComponent(arn)}`)),
        );
        const targets = groups.flatMap((g) => g.targets);
        return {
          ...view,
          healthy: targets.filter((t) => t.state === 'healthy').length,
          targets: targets.length,
        };
      }),
    );
  }

  function showServices(services) {
    $('services').replaceChildren(
      ...services.map((s) => {
        const deployments = s.deployments.map((d) => `${d.status} ${d.rolloutState ?? ''}`.trim()).join(', ');
        const health = s.targets === 0 ? '-' : `${s.healthy}/${s.targets}`;
        const groups = s.targetGroups.flatMap((arn, i) => [...(i > 0 ? [', '] : []), named(arn)]);
        const row = tr([s.cluster, s.name, s.desired, s.running, s.pending, deployments, health]);
        row.lastChild.append(...(groups.length > 0 ? [' in ', ...groups] : []));
        row.dataset.testid = `service-row-${s.cluster}-${s.name}`;
        row.dataset.healthy = String(s.healthy);
        row.dataset.running = String(s.running);
        return row;
      }),
    );
  }

  // --- recent actions ---------------------------------------------------------------------------------

  function showActions(actions) {
    $('actions').replaceChildren(
      ...actions.map((a) => {
        const row = tr([
          timeElement(a.at),
          a.reflex,
          a.action,
          statusCell(a.outcome),
          named(a.target, 'target'),
          named(a.reason),
        ]);
        row.lastChild.className = 'reason';
        row.dataset.reflex = a.reflex;
        row.dataset.action = a.action;
        return row;
      }),
    );
  }

  // --- steering and starting ----------------------------------------------------------------------------

  async function steer(verb) {
    const name = state.selected;
    if (!name) return;
    const reason = prompt(`${verb} rollout ${name}: why?`, '');
    if (reason === null) return;
    await report($('steer-result'), () =>
      api('POST', `/rollouts/${encodeURIComponent(name)}/${verb}`, reason ? { reason } : {}),
    );
    void refresh();
  }

  async function start(event) {
    event.preventDefault();
    const output = $('start-result');
    let parsed;
    try {
      parsed = JSON.parse($('start-request').value);
    } catch (error) {
      show(output, `the request is not JSON: ${error.message}`, true);
      return;
    }
    // The request itself, or the workflow's input {"rollout": request} (with its name), as the CLI takes.
    const rollout = parsed?.rollout !== undefined ? parsed.rollout : parsed;
    const name = $('start-name').value.trim() || (typeof parsed?.name === 'string' ? parsed.name : '');
    const answer = await report(output, () =>
      api('POST', '/rollouts', { ...(name ? { name } : {}), rollout }),
    );
    if (answer?.name) select(answer.name);
  }

  /** Runs a write and shows its answer (or its refusal) in `output`; the answer, or undefined. */
  async function report(output, write) {
    show(output, 'sending…', false);
    try {
      const answer = await write();
      show(output, `${answer.status}: ${answer.detail}`, false);
      return answer;
    } catch (error) {
      show(output, error.message, true);
      return undefined;
    }
  }

  function show(output, message, refused) {
    output.textContent = message;
    output.classList.toggle('refused', refused);
    output.dataset.outcome = refused ? 'refused' : 'accepted';
  }

  // --- small helpers ------------------------------------------------------------------------------------

  function tr(cells) {
    const row = document.createElement('tr');
    for (const cell of cells) {
      const td = document.createElement('td');
      td.append(cell ?? '');
      row.append(td);
    }
    return row;
  }

  function statusCell(status) {
    return span(status, status);
  }

  /** The service, its route by name and the route's two versions, each full name on hover. */
  function serviceAndRoute(view) {
    if (!view.route) return [view.service ? named(view.service) : '–'];
    const declared = state.routes.find((r) => r.key === view.route)?.route;
    return [
      ...(view.service ? [named(view.service), ' on route '] : ['route ']),
      named(view.route),
      ...(declared
        ? [' (stable ', named(declared.stable, 'stable'), ', canary ', named(declared.canary, 'canary'), ')']
        : []),
    ];
  }

  /** A span of `text` with each ARN or route key in it by its short name, the full text on hover. */
  function named(text, className) {
    const short = text.replace(/\b(?:(?:alb|appmesh):|arn:)[^\s,;()]+/g, shortName);
    const node = span(short, className ?? 'named');
    if (short !== text) node.title = text;
    return node;
  }

  /**
   * An ARN (or a route key, `alb:<rule ARN>`) by the name people know it by: a configured route's name, a
   * target group's, load balancer's or service's name, a task definition's `family:revision`; a listener or
   * rule by its load balancer; otherwise the ARN's last part.
   */
  function shortName(id) {
    const route = state.routes.find((r) => r.key === id);
    if (route) return route.name;
    const arn = id.replace(/^(alb|appmesh):/, '');
    const resource = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:(.+)$/.exec(arn.replace(/#default$/, ''))?.[1];
    if (resource === undefined) return id;
    const [type, ...parts] = resource.split('/');
    if (type === 'targetgroup') return parts[0];
    if (type === 'loadbalancer') return parts[1] ?? parts[0];
    if (type === 'listener') return `${parts[1]} ${arn.endsWith('#default') ? 'default rule' : 'listener'}`;
    if (type === 'listener-rule') return `${parts[1]} rule ${parts.at(-1).slice(-6)}`;
    if (type === 'task-definition') return parts[0];
    return parts.at(-1) ?? type;
  }

  for (const button of document.querySelectorAll('button[data-verb]'))
    button.addEventListener('click', () => void steer(button.dataset.verb));
  $('start-form').addEventListener('submit', (event) => void start(event));
  void offerRoutes();
  void refresh();
})();
