package dev.meshwork.health.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the health replica (PID {@code dev.meshwork.health}). */
@ObjectClassDefinition(id = "dev.meshwork.health", name = "Meshwork health sync",
        description = "The replicated health document: retention, sync timing and persistence.")
public @interface HealthSyncConfig {

    @AttributeDefinition(description = "Events older than this many seconds are compacted into per-node summaries (default 7 days).")
    long retentionSeconds() default 604_800;

    @AttributeDefinition(description = "Local changes within this many milliseconds go out in one push per neighbour.")
    long pushWindowMillis() default 100;

    @AttributeDefinition(description = "Seconds between anti-entropy digest exchanges with every direct neighbour.")
    long antiEntropyIntervalSeconds() default 30;

    @AttributeDefinition(description = "Milliseconds a node that lost its state file waits for its neighbours to tell it "
            + "how far its own log got before it numbers new events (its own observations show locally meanwhile). "
            + "A node whose state file loaded does not wait.")
    long rejoinTimeoutMillis() default 3_000;

    @AttributeDefinition(description = "Milliseconds before the first repeat of a catch-up digest a neighbour has not "
            + "answered (lost, or its health sync not running yet); doubles per repeat, jittered.")
    long catchUpBackoffMillis() default 200;

    @AttributeDefinition(description = "The longest delay in milliseconds between repeats of an unanswered catch-up digest.")
    long catchUpMaxBackoffMillis() default 5_000;

    @AttributeDefinition(description = "Events kept per node beyond which the oldest are compacted even inside the retention window.")
    int maxEventsPerNode() default 20_000;

    @AttributeDefinition(description = "The most events one sync message carries.")
    int maxEventsPerMessage() default 2_000;

    @AttributeDefinition(description = "Seconds between compaction runs.")
    long compactionIntervalSeconds() default 60;

    @AttributeDefinition(description = "Seconds between RTT summaries (recorded only when a peer's RTT moved by 20 % or more).")
    long rttSummaryIntervalSeconds() default 300;

    @AttributeDefinition(description = "Milliseconds replicated changes may wait before the state file is rewritten "
            + "(own events are written before they are sent).")
    long persistDelayMillis() default 1_000;

    @AttributeDefinition(description = "The state file; empty means <meshwork.data.dir>/health/state.bin.")
    String persistencePath() default "";
}
