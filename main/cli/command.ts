export interface Command {
  name: string;
  /** e.g. "models [build] [--json]" */
  usage: string;
  summary: string;
  /** Longer help: options, examples. */
  help?: string;
  run(args: string[]): Promise<number>;
}
