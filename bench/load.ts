// How busy the machine is while the bench runs: the load average, and how much of the CPU a busy loop in
// this process actually gets (CPU time over wall time). On a quiet machine the loop gets all of a core;
// when other work competes for the cores it gets less, and every wall-clock figure of this run is
// stretched by as much, unevenly.
import { cpus, loadavg } from 'node:os';

export interface LoadReading {
  loadAverage: number;
  /** CPU time over wall time of a fixed busy loop: 1 when the core was ours, lower when shared. */
  cpuShare: number;
}

export function readLoad(): LoadReading {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  let x = 0;
  for (let i = 0; i < 30_000_000; i++) x = (x + i * 7) % 1_000_003;
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  if (x < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return { loadAverage: loadavg()[0]!, cpuShare: Math.min(1, (cpu.user + cpu.system) / 1000 / wallMs) };
}

/** Why this run's timings cannot be trusted, or undefined when the machine looked quiet enough. */
export function unreliable(readings: LoadReading[]): string | undefined {
  const cores = cpus().length;
  const reasons: string[] = [];
  const busiest = Math.max(...readings.map((r) => r.loadAverage));
  if (busiest > cores * 0.75)
    reasons.push(`load average reached ${busiest.toFixed(2)} on ${cores} cores (more than 0.75 a core)`);
  const least = Math.min(...readings.map((r) => r.cpuShare));
  if (least < 0.9) reasons.push(`a busy loop got only ${(least * 100).toFixed(0)} % of a core`);
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
