// The design minimum of AWS calls is written once (bench/callBudgets.ts); docs/design.md shows it, and the
// bench and the twin's call counts are held to it. This keeps the page and the module one table.

import { actionsOf } from '../../bench/actionCalls';
import {
  budgetOf,
  CALL_BUDGETS,
  documentedTable,
  excessCalls,
  minimumCalls,
  renderBudgetTable,
} from '../../bench/callBudgets';

describe('the call budgets in docs/design.md', () => {
  it('are the table bench/callBudgets.ts renders (npx tsx bench/callBudgets.ts --write)', () => {
    // Act
    const documented = documentedTable();

    // Assess
    expect(documented).toBe(renderBudgetTable());
  });

  it('would differ from the page once a row changes', () => {
    // Prepare
    const changed = structuredClone(CALL_BUDGETS);
    changed.find((b) => b.action === 'shift (ALB)')!.calls.push({ api: 'DescribeRules', why: 'again' });

    // Act
    const rendered = renderBudgetTable(changed);

    // Assess
    expect(documentedTable()).not.toBe(rendered);
  });

  it('names every action once', () => {
    // Act
    const actions = CALL_BUDGETS.map((b) => b.action);

    // Assess
    expect(new Set(actions).size).toBe(actions.length);
  });
});

describe('excessCalls', () => {
  it('finds a second read of the route where the row allows one', () => {
    // Act
    const excess = excessCalls(
      [budgetOf('shift (ALB)')],
      ['DescribeRules', 'DescribeTags', 'DescribeRules', 'ModifyRule'],
    );

    // Assess
    expect(excess).toEqual([{ api: 'DescribeRules', made: 2, allowed: 1 }]);
  });

  it('allows a call made once per item any number of times, and optional calls when made', () => {
    // Act
    const excess = excessCalls(
      [budgetOf('shift (App Mesh)')],
      [
        'DescribeRoute',
        'ListTagsForResource',
        'DescribeServices',
        'DescribeServices',
        'UntagResource',
        'UpdateRoute',
      ],
    );

    // Assess
    expect(excess).toEqual([]);
    expect(minimumCalls(budgetOf('shift (App Mesh)'))).toBe(3);
  });

  it("counts a VPC Lattice listener's read as the rule read it stands for: a second one is over budget", () => {
    // Act
    const excess = excessCalls(
      [budgetOf('shift (VPC Lattice)')],
      ['GetListener', 'ListTagsForResource', 'GetListener', 'UpdateListener'],
    );

    // Assess
    expect(excess).toEqual([{ api: 'GetListener', made: 2, allowed: 1 }]);
    expect(
      excessCalls([budgetOf('shift (VPC Lattice)')], ['GetRule', 'ListTagsForResource', 'UpdateListener']),
    ).toEqual([]);
  });
});

describe('actionsOf', () => {
  const calls = (...apis: string[]) => apis.map((api) => ({ api, write: false }));

  it('tells a VPC Lattice step from an App Mesh one, though both read their tags with ListTagsForResource', () => {
    // Act
    const lattice = actionsOf({
      function: 'rolloutStep',
      action: 'shift',
      calls: calls('GetRule', 'ListTagsForResource', 'UpdateRule'),
    });
    const mesh = actionsOf({
      function: 'rolloutStep',
      action: 'shift',
      calls: calls('DescribeRoute', 'ListTagsForResource', 'UpdateRoute'),
    });
    const abort = actionsOf({
      function: 'alarmReactor',
      calls: calls(
        'ListExecutions',
        'DescribeExecution',
        'DescribeAlarms',
        'StopExecution',
        'GetListener',
        'ListTagsForResource',
        'TagResource',
        'UpdateListener',
        'GetListener',
        'Publish',
      ),
    });

    // Assess
    expect(lattice).toEqual(['shift (VPC Lattice)']);
    expect(mesh).toEqual(['shift (App Mesh)']);
    expect(abort).toEqual(['abort on a guard alarm (VPC Lattice)']);
  });

  it("holds a deployment hook's answer to the claim's reads, and its analysis and gate to theirs", () => {
    // Act
    const refused = actionsOf({ function: 'deploymentHook', calls: calls('DescribeServiceDeployments') });
    const gated = actionsOf({
      function: 'deploymentHook',
      calls: calls(
        'DescribeServiceDeployments',
        'DescribeServiceRevisions',
        'GetMetricData',
        'DescribeServices',
      ),
    });

    // Assess
    expect(refused).toEqual(['answer a stage']);
    expect(gated).toEqual(['answer a stage', 'analyse a stage', 'gate a stage']);
  });
});
