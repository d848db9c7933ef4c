import type { BenchResult, TargetName } from '../types.js';

/** The machine a run was measured on, as printed beside its figures. */
export interface MachineInfo {
  /** CPU model name, e.g. `AMD EPYC 7B13`. */
  cpu: string;
  /** Logical CPUs. */
  cores: number;
  /** Total memory in GiB, one decimal. */
  memoryGiB: number;
  /** Kernel and distribution, e.g. `Linux 6.1.0-31-amd64 (Debian GNU/Linux 12 (bookworm))`. */
  os: string;
  /** `process.version` of the Node.js that ran the suite. */
  node: string;
}

/** How the suite was asked to run. */
export interface RunOptions {
  /** Fewer and shorter repetitions: figures for a quick look, not for the record. */
  quick: boolean;
  /** Repetitions of every scenario on every target; `BenchResult.value` is their median. */
  repetitions: number;
  /** Measured span of one repetition, ms. */
  durationMs: number;
}

/** Version strings of the targets that ran and of `wrk` and `iperf3`, when they were used. */
export type ToolVersions = Partial<Record<TargetName, string>> & { wrk?: string; iperf3?: string };

/** Everything one run of the proxy suite reports: what the table, charts, doc section and JSON show. */
export interface RunReport {
  /** When the run started, ISO 8601. */
  startedAt: string;
  /** The command line that produced the run, to repeat it. */
  command: string;
  machine: MachineInfo;
  versions: ToolVersions;
  options: RunOptions;
  /** One row per scenario and target, scenarios in run order. */
  results: BenchResult[];
  /** Lines of explanation (what each scenario measures, caveats); each becomes one bullet in the doc. */
  notes: string[];
  /**
   * Figures not to take at face value (a guard refused connections, our bulk generator and iperf3
   * disagree); each becomes one line, shown where it cannot be missed. Absent in runs recorded before.
   */
  warnings?: string[];
}
