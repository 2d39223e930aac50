// A Vitest reporter that writes what the tests print (fuzz and soak counts, accuracy figures, the
// size report, the demo's in-browser benchmark) to test-results/console.log instead of the
// terminal, so a passing `npm test` shows only its summary. `--reporter=verbose` (as
// `npm run fuzz` uses) replaces the configured reporters and prints everything again.
import { mkdirSync, writeFileSync, appendFileSync } from "node:fs";
import type { Reporter } from "vitest/reporters";
import type { Vitest } from "vitest/node";

export const CONSOLE_LOG = "test-results/console.log";

type Log = Parameters<NonNullable<Reporter["onUserConsoleLog"]>>[0];

export default class ConsoleLogFile implements Reporter {
  private ctx?: Vitest;
  private entries = 0;

  onInit(ctx: Vitest): void {
    this.ctx = ctx;
    mkdirSync("test-results", { recursive: true });
    writeFileSync(CONSOLE_LOG, "");
  }

  onUserConsoleLog(log: Log): void {
    const task = log.taskId ? this.ctx?.state.idMap.get(log.taskId) : undefined;
    const where = task ? `${task.file?.projectName ? `[${task.file.projectName}] ` : ""}${task.file?.name ?? ""} > ${task.name}` : "(outside a test)";
    appendFileSync(CONSOLE_LOG, `${log.type} | ${where}\n${log.content.endsWith("\n") ? log.content : `${log.content}\n`}`);
    this.entries++;
  }

  onTestRunEnd(): void {
    if (this.entries) process.stdout.write(`what the tests printed (${this.entries} entries): ${CONSOLE_LOG}\n`);
  }
}
