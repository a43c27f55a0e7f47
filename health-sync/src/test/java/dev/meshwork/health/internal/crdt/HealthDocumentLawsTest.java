package dev.meshwork.health.internal.crdt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The join-semilattice laws of {@link HealthDocument#merge}, and that deltas and compaction agree
 * with it, over random histories: every state holds a random prefix of each origin's log,
 * compacted up to a random point.
 */
class HealthDocumentLawsTest {

    @Provide
    Arbitrary<List<Integer>> spec() {
        return Arbitraries.integers().between(0, 40).list().ofSize(2 * Histories.ORIGINS.size());
    }

    @Property(tries = 300)
    void mergeIsCommutative(@ForAll long seed, @ForAll("spec") List<Integer> a, @ForAll("spec") List<Integer> b) {
        var u = Histories.universe(seed);
        HealthDocument x = Histories.state(u, a);
        HealthDocument y = Histories.state(u, b);
        assertEquals(Histories.join(y, x), Histories.join(x, y));
    }

    @Property(tries = 300)
    void mergeIsAssociative(@ForAll long seed, @ForAll("spec") List<Integer> a, @ForAll("spec") List<Integer> b,
            @ForAll("spec") List<Integer> c) {
        var u = Histories.universe(seed);
        HealthDocument x = Histories.state(u, a);
        HealthDocument y = Histories.state(u, b);
        HealthDocument z = Histories.state(u, c);
        assertEquals(Histories.join(x, Histories.join(y, z)), Histories.join(Histories.join(x, y), z));
    }

    @Property(tries = 300)
    void mergeIsIdempotent(@ForAll long seed, @ForAll("spec") List<Integer> a) {
        HealthDocument x = Histories.state(Histories.universe(seed), a);
        assertEquals(x, Histories.join(x, x));
        assertTrue(x.merge(x.copy()).isEmpty());
    }

    @Property(tries = 300)
    void mergeIsAnUpperBound(@ForAll long seed, @ForAll("spec") List<Integer> a, @ForAll("spec") List<Integer> b) {
        var u = Histories.universe(seed);
        HealthDocument x = Histories.state(u, a);
        HealthDocument y = Histories.state(u, b);
        HealthDocument j = Histories.join(x, y);
        // x ⊔ (x ⊔ y) = x ⊔ y: the join is above both.
        assertEquals(j, Histories.join(x, j));
        assertEquals(j, Histories.join(y, j));
    }

    @Property(tries = 300)
    void compactionCommutesWithMerge(@ForAll long seed, @ForAll("spec") List<Integer> a, @ForAll("spec") List<Integer> b,
            @ForAll @IntRange(min = 0, max = 14) int cutoffSeconds) {
        var u = Histories.universe(seed);
        Instant cutoff = Histories.T0.plusSeconds(cutoffSeconds);
        HealthDocument mergedThenCompacted = Histories.join(Histories.state(u, a), Histories.state(u, b));
        mergedThenCompacted.compact(cutoff, Integer.MAX_VALUE);
        HealthDocument x = Histories.state(u, a);
        HealthDocument y = Histories.state(u, b);
        x.compact(cutoff, Integer.MAX_VALUE);
        y.compact(cutoff, Integer.MAX_VALUE);
        assertEquals(mergedThenCompacted, Histories.join(x, y));
    }

    @Property(tries = 300)
    void compactionKeepsTheVersionVectorAndLaterEvents(@ForAll long seed, @ForAll("spec") List<Integer> a,
            @ForAll @IntRange(min = 0, max = 14) int cutoffSeconds, @ForAll @IntRange(min = 1, max = 13) int cap) {
        HealthDocument x = Histories.state(Histories.universe(seed), a);
        HealthDocument compacted = x.copy();
        compacted.compact(Histories.T0.plusSeconds(cutoffSeconds), cap);
        assertEquals(x.versionVector(), compacted.versionVector());
        var floor = Histories.floor(x, compacted);
        assertEquals(Histories.knowledge(x, floor), Histories.knowledge(compacted, floor));
        compacted.snapshot().values().forEach(s -> assertTrue(s.events().size() <= cap));
    }

    @Property(tries = 300)
    void applyingTheDeltaGivesTheJoinsKnowledge(@ForAll long seed, @ForAll("spec") List<Integer> a,
            @ForAll("spec") List<Integer> b, @ForAll @IntRange(min = 1, max = 40) int maxEventsPerMessage) {
        var u = Histories.universe(seed);
        HealthDocument x = Histories.state(u, a);
        HealthDocument y = Histories.state(u, b);
        HealthDocument expected = Histories.join(y, x);
        long before = total(y.versionVector());
        int messages = 0;
        while (true) {
            HealthDocument.Delta d = x.deltaFor(y.versionVector(), maxEventsPerMessage);
            if (d.isEmpty()) {
                break;
            }
            HealthDocument.ApplyResult r = y.apply(d.fragments());
            assertFalse(r.gap());
            long after = total(y.versionVector());
            // Each exchange strictly shrinks what y lacks: the loop terminates.
            assertTrue(after > before);
            before = after;
            messages++;
            assertTrue(messages <= 3 * Histories.EVENTS_PER_ORIGIN + 3);
        }
        assertEquals(expected.versionVector(), y.versionVector());
        var floor = Histories.floor(y, expected);
        assertEquals(Histories.knowledge(expected, floor), Histories.knowledge(y, floor));
    }

    @Property(tries = 200)
    void aFragmentBeyondTheHeldVersionIsRefusedAsAGap(@ForAll long seed) {
        var u = Histories.universe(seed);
        NodeId a = Histories.ORIGINS.get(0);
        HealthDocument d = new HealthDocument();
        List<HealthEvent> log = u.get(a);
        HealthDocument.ApplyResult r = d.apply(List.of(new Fragment(a, 3, java.util.Optional.empty(), log.subList(3, 6))));
        assertTrue(r.gap());
        assertTrue(d.versionVector().isEmpty());
    }

    private static long total(Map<NodeId, Long> vv) {
        return vv.values().stream().mapToLong(Long::longValue).sum();
    }
}
