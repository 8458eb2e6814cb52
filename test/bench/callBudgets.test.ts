// The design minimum of AWS calls is written once (bench/callBudgets.ts); docs/design.md shows it, and the
// bench and the twin's call counts are held to it. This keeps the page and the module one table.
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
});
