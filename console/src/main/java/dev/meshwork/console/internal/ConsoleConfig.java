package dev.meshwork.console.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Meshwork node console",
        description = "HTTP status, Prometheus metrics and a live dashboard, on loopback by default.")
@interface ConsoleConfig {

    @AttributeDefinition(description = "Address to serve on; loopback by default so the console is not exposed.")
    String address() default "127.0.0.1";

    @AttributeDefinition(description = "Port to serve on; 0 picks a free port, -1 turns the console off.")
    int port() default 7480;

    @AttributeDefinition(description = "How often the dashboard's event stream pushes a fresh status, in milliseconds.")
    int pushIntervalMillis() default 1000;
}
