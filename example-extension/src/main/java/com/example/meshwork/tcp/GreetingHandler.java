package com.example.meshwork.tcp;

import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.MessageHandler;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Component;

/**
 * Receives messages on the topic {@code example.greetings} and prints them: the smallest useful
 * {@link MessageHandler}, found by the router through its service property.
 */
@Component(property = MessageHandler.TOPIC + "=example.greetings")
public final class GreetingHandler implements MessageHandler {

    private final AtomicLong received = new AtomicLong();

    @Override
    public CompletionStage<Void> onMessage(InboundMessage message) {
        long n = received.incrementAndGet();
        System.out.println("example.greetings #" + n + " from " + message.source() + ": "
                + new String(message.payload(), StandardCharsets.UTF_8));
        return CompletableFuture.completedFuture(null);
    }
}
