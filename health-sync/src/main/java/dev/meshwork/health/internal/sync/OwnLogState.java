package dev.meshwork.health.internal.sync;

/**
 * Whether the local node may number its own new events yet.
 *
 * <pre>
 *   start with its own state file ─────────────────────────────────────────────▶ RECORDING
 *   start without (missing, corrupt, other node's) ──▶ REJOINING ──every linked neighbour's
 *                                                        vector covered, or rejoinTimeout──▶ RECORDING
 * </pre>
 *
 * <p>Why: the node is the only writer of its log and must never reuse a sequence number. Every
 * own event is made durable in the state file before any message carrying it leaves the node
 * (and withheld while that fails), so a node whose state file loaded knows the end of its own
 * log: it records at once. A node that lost the file may have neighbours holding its later
 * events, so it first asks them (the catch-up, repeated at a short backoff) and numbers new
 * events only once it holds what every linked neighbour holds of its log; observations made
 * meanwhile wait in order (the view shows them provisionally). The wait is bounded by the
 * rejoin timeout (default 3 s): an isolated node, or one whose neighbours stay silent, then
 * records anyway.
 *
 * <p><b>Known limit (total state loss).</b> After that timeout, or when the holders of its
 * latest events are not among its linked neighbours (only further away, or down), a node that
 * lost its state can number an event with a sequence number it used before. Replicas that
 * hold the old event keep it, count {@code events.conflicting} and log a warning; they never
 * join the new event with that number, and join the new events after it on top of the old
 * prefix. Version vectors then agree while contents differ for those numbers, and anti-entropy
 * (which compares vectors) does not repair it: that origin's timeline stays mixed on those
 * replicas. It needs a lost state file and an incomplete
 * rejoin together; the counter makes it visible.
 */
public enum OwnLogState {
    /** Own events are held back until the own log's length is known. */
    REJOINING,
    /** Own events are numbered and pushed as they happen. */
    RECORDING
}
