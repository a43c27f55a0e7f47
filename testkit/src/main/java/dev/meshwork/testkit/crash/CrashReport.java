package dev.meshwork.testkit.crash;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one crash-and-restart run did and what the oracle found.
 *
 * @param seed                 reproduces the schedule ({@code -Dmeshwork.crash.seed=N})
 * @param kills                signals sent (SIGKILL and SIGTERM, both nodes)
 * @param enqueuedOk           enqueues answered 2xx
 * @param findings             the oracle's findings
 * @param maxRecoverySeconds   worst time from a restart command to the sender accepting an enqueue again
 * @param answers              the clients' answers by kind, all clients together
 * @param uncleanStops         SIGTERMs that did not end in exit code 0 within the stop timeout
 * @param schedule             the schedule as it ran, one entry per step
 */
public record CrashReport(long seed, int kills, int enqueuedOk, CrashOracle.Findings findings, double maxRecoverySeconds,
        Map<String, Long> answers, int uncleanStops, List<String> schedule) {

    /** {@code RESULT crash kills=N enqueued_ok=N lost=N dead=N duplicates_to_handler=N max_recovery_s=X}. */
    public String resultLine() {
        return String.format(java.util.Locale.ROOT, "RESULT crash kills=%d enqueued_ok=%d lost=%d dead=%d duplicates_to_handler=%d max_recovery_s=%.1f",
                kills, enqueuedOk, findings.lost(), findings.dead(), findings.duplicatesToHandler(), maxRecoverySeconds);
    }

    /** Every broken promise, one line each; empty when the run kept them all. */
    public List<String> violations() {
        List<String> v = new ArrayList<>();
        if (findings.lost() > 0) {
            v.add(findings.lost() + " accepted enqueues never reached the handler");
        }
        if (findings.missingRows() > 0) {
            v.add(findings.missingRows() + " accepted enqueues have no row in the sender's outbox");
        }
        if (findings.dead() > 0) {
            v.add(findings.dead() + " rows are DEAD");
        }
        if (findings.left() > 0) {
            v.add(findings.left() + " rows are still PENDING or INFLIGHT: the outbox did not drain");
        }
        int withinRun = findings.duplicatesToHandler() - findings.duplicatesAcrossReceiverCrash();
        if (withinRun > 0) {
            v.add(withinRun + " duplicates reached the handler within one run of the receiver (the inbox's dedup failed)");
        }
        if (findings.duplicatesAcrossReceiverCrash() > findings.inDoubtAtStarts()) {
            v.add(findings.duplicatesAcrossReceiverCrash() + " duplicates reached the handler across receiver crashes, but only "
                    + findings.inDoubtAtStarts() + " records were in doubt (redelivered) at its starts");
        }
        long permanent = answers.entrySet().stream().filter(e -> e.getKey().startsWith("4")).mapToLong(Map.Entry::getValue).sum();
        if (permanent > 0) {
            v.add(permanent + " enqueues for a configured peer were refused as permanent (4xx): " + answers);
        }
        if (uncleanStops > 0) {
            v.add(uncleanStops + " SIGTERMs did not stop the node cleanly (exit 0)");
        }
        return v;
    }

    /** The report for a failed run: the seed first, then what broke, examples, and the schedule. */
    public String describe() {
        StringBuilder text = new StringBuilder("crash run with seed " + seed + " (rerun: -Dmeshwork.crash.seed=" + seed + ")\n");
        text.append(resultLine()).append('\n');
        violations().forEach(line -> text.append("  broken: ").append(line).append('\n'));
        text.append("  outbox rows by state: ").append(findings.outboxByState()).append(", inbox records in doubt: ")
                .append(findings.inboxInDoubt()).append(", reported in doubt at the receiver's starts: ").append(findings.inDoubtAtStarts())
                .append('\n');
        text.append("  client answers: ").append(answers).append('\n');
        findings.examples().forEach(line -> text.append("  e.g. ").append(line).append('\n'));
        text.append("  schedule:\n");
        schedule.forEach(line -> text.append("    ").append(line).append('\n'));
        return text.toString();
    }
}
