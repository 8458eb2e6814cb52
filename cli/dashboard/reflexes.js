// The dashboard's Reflexes tab: what the reflexes other than rollouts hold right now (GET /reflexes), a
// panel each. Polled only while the tab is shown. Everything from the API goes in as text, never as HTML;
// short names on the page, the full ARN or URL in the title (shown on hover); times in UTC, zone written.
'use strict';

(() => {
  const { $, span, lastPart, utc } = window.ecsReflexPage;
  const params = new URLSearchParams(location.search);
  const POLL_MS = Math.max(100, Number(params.get('every')) || 2000);
  const state = { timer: 0, shown: false };

  // --- tabs -----------------------------------------------------------------------------------------------

  /**
   * Rollouts, Reflexes or Deployments; `?view=reflexes` (or `deployments`) opens on that tab. The rollout
   * view keeps the hash. Every tab shown is announced, for the tabs other scripts draw (deployments.js).
   */
  const TABS = ['rollouts', 'reflexes', 'deployments'];
  function showTab(name) {
    for (const tab of TABS) {
      $(`${tab}-view`).hidden = tab !== name;
      $(`tab-${tab}`).setAttribute('aria-selected', String(tab === name));
    }
    state.shown = name === 'reflexes';
    clearTimeout(state.timer);
    if (state.shown) void refresh();
    document.dispatchEvent(new CustomEvent('ecs-reflex:tab', { detail: name }));
  }

  async function refresh() {
    try {
      const response = await fetch('/api/reflexes');
      const view = await response.json();
      if (!response.ok) throw new Error(`${view.title ?? 'HTTP'} (${response.status}): ${view.detail ?? ''}`);
      render(view);
      // The header says when the page last heard from the API; this line only says what went wrong here.
      $('reflexes-status').hidden = true;
    } catch (error) {
      $('reflexes-status').textContent = error.message;
      $('reflexes-status').hidden = false;
    } finally {
      clearTimeout(state.timer);
      if (state.shown) state.timer = setTimeout(refresh, POLL_MS);
    }
  }

  // --- the panels -------------------------------------------------------------------------------------------

  function render(view) {
    const { alarmReactor, taskRecycler, instanceLifecycle, deadLetters } = view;
    badge('dry-run-alarm-reactor', alarmReactor.dryRun);
    badge('dry-run-task-recycler', taskRecycler.dryRun);
    badge('dry-run-instance-lifecycle', instanceLifecycle.dryRun);
    const dry = [
      alarmReactor.dryRun && 'the alarm reactor',
      taskRecycler.dryRun && 'the task recycler',
      instanceLifecycle.dryRun && 'the instance lifecycle reflex',
    ].filter(Boolean);
    $('dry-run-banner').hidden = dry.length === 0;
    $('dry-run-who').textContent = dry.join(', ');

    rows(
      'alarm-changes',
      alarmReactor.changes,
      (c) => [
        span(c.knob, 'name', `reaction ${c.reaction} on ${c.target}`),
        `${c.from} → ${c.to}${c.pending ? ' (pending)' : ''}`,
        c.alarm,
        utc(c.since),
        c.revertsAt ? [c.reverts, ': ', deadline(c.revertsAt, c.secondsLeft)] : c.reverts,
      ],
      (row, c) => {
        row.dataset.testid = `alarm-change-${c.reaction}`;
        row.dataset.from = c.from;
        row.dataset.to = c.to;
      },
    );
    rows(
      'gave-up',
      taskRecycler.gaveUp,
      (g) => [utc(g.at), g.cluster ?? '', arnName(g.taskArn), g.reason],
      (row, g) => {
        row.dataset.testid = `gave-up-${lastPart(g.taskArn)}`;
      },
    );
    rows(
      'unhealthy',
      taskRecycler.unhealthy,
      (u) => [u.cluster, u.group, arnName(u.taskArn), utc(u.since), deadline(u.stopsAt, u.secondsLeft)],
      (row, u) => {
        row.dataset.testid = `unhealthy-${lastPart(u.taskArn)}`;
        row.dataset.secondsLeft = String(u.secondsLeft);
      },
    );
    rows(
      'lifecycle-actions',
      instanceLifecycle.actions,
      (a) => [
        a.group,
        a.hook,
        span(a.instanceId, 'name', `workflow run ${a.run}`),
        a.transition,
        a.lastHeartbeatAt ? utc(a.lastHeartbeatAt) : '–',
        a.expiresAt
          ? [`${a.defaultResult ?? ''} `, deadline(a.expiresAt, a.secondsLeft)]
          : 'not yet confirmed',
      ],
      (row, a) => {
        row.dataset.testid = `lifecycle-${a.instanceId}`;
        if (a.secondsLeft !== undefined) row.dataset.secondsLeft = String(a.secondsLeft);
      },
    );
    rows(
      'dead-letters',
      deadLetters,
      (q) => [
        span(q.queue, 'name', q.url),
        q.missing
          ? span('queue missing', 'nonzero')
          : span(String(q.messages ?? 0), q.messages ? 'nonzero' : ''),
      ],
      (row, q) => {
        row.dataset.testid = `dead-letters-${q.queue}`;
        row.dataset.messages = String(q.messages ?? '');
        row.classList.toggle('nonzero', Boolean(q.messages) || q.missing === true);
      },
    );
  }

  /** A panel's rows, or its empty line when there are none. */
  function rows(id, items, cells, mark) {
    const body = $(id);
    body.replaceChildren(
      ...items.map((item) => {
        const row = document.createElement('tr');
        for (const cell of cells(item)) {
          const td = document.createElement('td');
          td.append(...(Array.isArray(cell) ? cell : [cell]));
          row.append(td);
        }
        mark(row, item);
        return row;
      }),
    );
    $(`${id}-none`).hidden = items.length > 0;
  }

  function badge(id, dryRun) {
    const element = $(id);
    element.textContent = dryRun ? 'dry-run' : 'live';
    element.className = `badge ${dryRun ? 'dry-run' : 'live'}`;
    element.dataset.dryRun = String(dryRun);
  }

  // --- small helpers ----------------------------------------------------------------------------------------

  /** A task's id on the page, its ARN on hover. */
  const arnName = (arn) => span(lastPart(arn), 'name', arn);

  /** When, and how long until then by the API's clock (the browser's may be off, or the twin's virtual). */
  function deadline(iso, secondsLeft) {
    const left = secondsLeft ?? 0;
    const h = Math.floor(left / 3600);
    const min = Math.floor((left % 3600) / 60);
    const text = h > 0 ? `${h} h ${min} min` : min > 0 ? `${min} min ${left % 60} s` : `${left} s`;
    return span(`${utc(iso)} (${text} left)`, left < 300 ? 'soon' : '');
  }

  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => showTab(tab));
  showTab(TABS.includes(params.get('view')) ? params.get('view') : 'rollouts');
})();
