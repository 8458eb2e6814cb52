// npm start: the demo on the twin while the ops API and the dashboard serve it, then its timeline.
import { start } from '#local/cli/start';

describe('npm start', () => {
  it('serves the API and the dashboard while the demo runs, then prints its timeline and its expectations met', async () => {
    // Prepare
    let output = '';

    // Act
    const code = await start(['--speed', '6000'], (text) => {
      output += text;
    });

    // Assess
    expect(code).toBe(0);
    expect(output).toMatch(/ops API: {3}http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(output).toMatch(/break-crash-loop web/);
    expect(output).toMatch(/scenario demo: 7\/7 expectations met/);
  });
});
