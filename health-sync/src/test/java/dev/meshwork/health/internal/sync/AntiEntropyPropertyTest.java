package dev.meshwork.health.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.health.internal.sync.AntiEntropy.Decision;
import dev.meshwork.health.internal.sync.AntiEntropy.Input;
import dev.meshwork.health.internal.sync.AntiEntropy.Reply;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The anti-entropy decision over random inputs (seeded: the same inputs on every run). What it
 * must never do is what would make a round run forever, lose a catch-up, or ask for nothing.
 */
class AntiEntropyPropertyTest {

    private static final String SEED = "20261206";

    @Property(tries = 2000, seed = SEED)
    void anExchangeWhereNeitherSideLacksAnythingEndsSilently(@ForAll SyncMessage.Kind kind, @ForAll boolean answerPending,
            @ForAll boolean heard, @ForAll boolean roundOpen) {
        Decision d = AntiEntropy.decide(new Input(kind, false, false, answerPending, false, heard, roundOpen));
        assertEquals(Reply.NONE, d.reply(), "nothing differs and no answer asked: nothing is sent, so the round ends");
        if (kind != SyncMessage.Kind.PUSH) {
            assertFalse(d.roundOpen());
            assertEquals(roundOpen, d.roundCompleted(), "an open round is counted as completed exactly when it ends");
            assertTrue(d.heard(), "a vector we cover ends the catch-up");
        }
    }

    @Property(tries = 2000, seed = SEED)
    void aCatchUpDigestIsAlwaysAnswered(@ForAll boolean iLack, @ForAll boolean peerLacks, @ForAll boolean answerPending,
            @ForAll boolean heard, @ForAll boolean roundOpen) {
        Decision d = AntiEntropy.decide(new Input(SyncMessage.Kind.DIGEST, iLack, peerLacks, answerPending, true, heard, roundOpen));
        assertTrue(d.reply() != Reply.NONE, "the sender waits for an answer to end its catch-up: " + d);
    }

    @Property(tries = 2000, seed = SEED)
    void aDecisionIsConsistentWithItsInputs(@ForAll SyncMessage.Kind kind, @ForAll boolean iLack, @ForAll boolean peerLacks,
            @ForAll boolean answerPending, @ForAll boolean answerRequested, @ForAll boolean heard, @ForAll boolean roundOpen) {
        Input in = new Input(kind, iLack, peerLacks, answerPending, answerRequested, heard, roundOpen);
        Decision d = AntiEntropy.decide(in);
        // what the neighbour lacks goes in a delta, which only a digest or delta is answered with
        assertEquals(kind != SyncMessage.Kind.PUSH && peerLacks, d.reply() == Reply.DELTA, in + " -> " + d);
        // a request says we lack something; it is never sent otherwise (answers would echo)
        if (d.reply() == Reply.REQUEST) {
            assertTrue(iLack, in + " -> " + d);
        }
        // a plain digest goes only to a sender that asked for an answer
        if (d.reply() == Reply.DIGEST) {
            assertTrue(answerRequested, in + " -> " + d);
        }
        // while we lack something the exchange stays open, so the next repeat or round asks again
        if (iLack) {
            assertTrue(d.roundOpen(), in + " -> " + d);
            assertFalse(d.roundCompleted(), in + " -> " + d);
        }
        // once over, a catch-up stays over; a push never ends one (it carries no vector)
        if (heard) {
            assertTrue(d.heard(), in + " -> " + d);
        }
        if (kind == SyncMessage.Kind.PUSH) {
            assertEquals(heard, d.heard(), in + " -> " + d);
            assertEquals(iLack ? Reply.REQUEST : Reply.NONE, d.reply(), in + " -> " + d);
        } else {
            assertEquals(heard || !iLack, d.heard(), in + " -> " + d);
        }
        // our own digest is unanswered: its answer brings what we lack, so we do not ask twice
        if (kind == SyncMessage.Kind.DIGEST && answerPending && iLack && !peerLacks) {
            assertTrue(d.reply() != Reply.REQUEST, in + " -> " + d);
        }
        if (d.roundCompleted()) {
            assertTrue(roundOpen && !d.roundOpen(), in + " -> " + d);
        }
    }
}
