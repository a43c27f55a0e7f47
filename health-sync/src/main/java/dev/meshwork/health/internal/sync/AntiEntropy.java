package dev.meshwork.health.internal.sync;

/**
 * The anti-entropy decision, as a pure function: what to answer a neighbour's message, given
 * what the message says and what the session with that neighbour knows. No state, no clock, no
 * I/O: {@link SyncEngine} gathers the inputs and carries out the decision, and a property test
 * drives it over every input. The protocol and why a round ends are in {@link SyncEngine}.
 */
final class AntiEntropy {

    private AntiEntropy() {
    }

    /** What to send back. */
    enum Reply {
        /** Nothing: the exchange is over, or an answer is already on its way. */
        NONE,
        /** What the neighbour lacks, with our version vector. */
        DELTA,
        /** A digest saying we lack something (answered with exactly that). */
        REQUEST,
        /** A plain digest (a catch-up is always answered). */
        DIGEST
    }

    /**
     * @param kind            the message's kind
     * @param iLack           we lack something the sender holds: a gap, a delta cut short, or
     *                        (digest, delta) its version vector beyond ours
     * @param peerLacks       the neighbour lacks something we may send, by what we assume it holds
     *                        (not asked for pushes, which are never answered with a delta)
     * @param answerPending   our own digest to it is unanswered and recent
     * @param answerRequested the sender asked for an answer even if nothing differs (a catch-up)
     * @param heard           the catch-up with this neighbour was over before the message
     * @param roundOpen       an exchange with it was in progress before the message
     */
    record Input(SyncMessage.Kind kind, boolean iLack, boolean peerLacks, boolean answerPending,
            boolean answerRequested, boolean heard, boolean roundOpen) {
    }

    /**
     * @param reply          what to send back
     * @param heard          whether the catch-up is over after the message
     * @param roundOpen      whether the exchange goes on
     * @param roundCompleted whether the message ended an open exchange
     */
    record Decision(Reply reply, boolean heard, boolean roundOpen, boolean roundCompleted) {
    }

    static Decision decide(Input in) {
        if (in.kind() == SyncMessage.Kind.PUSH) {
            // a gap (a lost or overtaken push) is asked for; anything else waits for the next round
            return in.iLack() ? new Decision(Reply.REQUEST, in.heard(), true, false)
                    : new Decision(Reply.NONE, in.heard(), in.roundOpen(), false);
        }
        // Caught up: we hold all the neighbour holds (for a rejoining node, its own log's end
        // among it). Until then the catch-up repeats, so a lost answer is asked again.
        boolean heard = in.heard() || !in.iLack();
        if (in.peerLacks()) {
            return new Decision(Reply.DELTA, heard, true, false);
        }
        if (in.iLack() && !(in.kind() == SyncMessage.Kind.DIGEST && in.answerPending())) {
            return new Decision(Reply.REQUEST, heard, true, false);
        }
        if (in.iLack()) {
            // Our digest is unanswered: its answer brings what we lack, asking again would only
            // have it sent twice (the crossing digests of a link coming up). If the other side
            // has not heard us (its digest crossed ours, or ours was lost), a plain digest
            // answers either way.
            return new Decision(in.answerRequested() ? Reply.DIGEST : Reply.NONE, heard, true, false);
        }
        // Nothing differs: the round ends; a catch-up is answered all the same.
        return new Decision(in.answerRequested() ? Reply.DIGEST : Reply.NONE, heard, false, in.roundOpen());
    }
}
