package dev.meshwork.health.internal.sync;

/**
 * Whether the local node may number its own new events yet.
 *
 * <pre>
 *   start ──▶ REJOINING ──a neighbour's version vector arrived, or the rejoin timeout──▶ RECORDING
 * </pre>
 *
 * <p>Why: the node is the only writer of its log and must never reuse a sequence number. Its
 * state file may be missing, corrupt, or older than what it pushed before a crash, while its
 * neighbours still hold its later events. So after every start it first learns from a neighbour
 * how far its own log got (its events come back with the neighbour's delta), and only then
 * numbers new events; observations made meanwhile wait in order. A node with no neighbour
 * starts recording after the timeout.
 */
public enum OwnLogState {
    /** Own events are held back until the own log's length is known. */
    REJOINING,
    /** Own events are numbered and pushed as they happen. */
    RECORDING
}
