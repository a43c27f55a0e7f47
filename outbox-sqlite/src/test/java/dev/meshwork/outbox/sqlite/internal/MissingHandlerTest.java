package dev.meshwork.outbox.sqlite.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import org.junit.jupiter.api.Test;

class MissingHandlerTest {

    @Test
    void aDurableMessageWhoseHandlerIsNotRegisteredYetIsRetriedNotKilled() {
        RuntimeException e = InboxReceiver.retryableIfHandlerMissing(
                new PermanentException(FailureCode.UNKNOWN_TOPIC, "no handler"), "orders");
        assertTrue(((MeshworkException) e).isRetryable(), "the sender keeps the row pending");
        assertEquals(FailureCode.UNKNOWN_TOPIC, ((MeshworkException) e).code());
        assertTrue(e.getMessage().contains("'orders'"), e.getMessage());
    }

    @Test
    void otherPermanentFailuresStayPermanent() {
        PermanentException conflict = new PermanentException(FailureCode.HANDLER_FAILED, "bad input");
        assertSame(conflict, InboxReceiver.retryableIfHandlerMissing(conflict, "orders"));
    }
}
