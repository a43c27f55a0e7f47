package dev.meshwork.health.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.health.internal.crdt.HealthQueries;
import dev.meshwork.health.internal.sync.OwnLogState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One immutable picture of a health replica, published by the health thread (the owner of the
 * document and the sync engine) at the end of every task it runs. The view's queries, the Gogo
 * commands and the console read it from their own threads; they never touch the engine's maps.
 * Everything in it was taken at the same moment, so its parts agree with one another (the
 * version vector with the timelines, the counters with both).
 *
 * @param queries          the document with this node's provisional own observations
 * @param versionVector    the document's version vector
 * @param counters         the sync engine's and the node's counters, by name
 * @param ownLog           whether own events are numbered yet
 * @param neighbours       the sync neighbours
 * @param startedWithState whether the start found the node's own state file
 * @param lastPersistError the last failed write of the state file, if the latest failed
 */
public record HealthSnapshot(HealthQueries queries, SortedMap<NodeId, Long> versionVector, Map<String, Long> counters,
        OwnLogState ownLog, List<NodeId> neighbours, boolean startedWithState, Optional<String> lastPersistError) {

    /** Before the start. */
    static final HealthSnapshot EMPTY = new HealthSnapshot(new HealthQueries(Map.of()), new TreeMap<>(), Map.of(),
            OwnLogState.REJOINING, List.of(), false, Optional.empty());

    public HealthSnapshot {
        versionVector = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(versionVector));
        counters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(counters));
        neighbours = List.copyOf(neighbours);
    }

    /** The replica's sync state in one line, for the shell. */
    public String syncState() {
        return "own log " + ownLog + (startedWithState ? " (state file loaded at start)" : " (started without its state file)")
                + ", sync neighbours " + neighbours + lastPersistError.map(e -> ", last persist error: " + e).orElse("");
    }
}
