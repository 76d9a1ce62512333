// What a CLI command is: a name, help text with a worked example per flag, and a run function that returns the
// exit status. Only src/cli/ prints to the terminal or exits.

export interface Command {
  name: string;
  /** Full text for `eventbench NAME --help`. */
  help: string;
  /** Runs with the arguments after the command name; resolves to the process exit status. */
  run(argv: string[]): Promise<number>;
}

/** Exit statuses, documented in `eventbench --help`. */
export const EXIT = {
  ok: 0,
  /** The work ran but failed (a server died, errors past --bailout, a failed check). */
  failure: 1,
  /** Bad input: the message names the field, the value and the limit. */
  usage: 2,
  /** --strict: the client, not the server, set the pace. */
  clientBound: 3,
  /** `run`: a phase could not measure everything it planned (a server no longer installed, on resume); what was measured is kept. */
  incomplete: 4,
  /** Interrupted by SIGINT; what was measured is kept. */
  interrupted: 130,
} as const;
