/**
 * The wire protocol, generated from {@code meshwork/wire.proto} at build time: one
 * {@link dev.meshwork.api.wire.Frame} per WebSocket binary message.
 *
 * <p>{@link dev.meshwork.api.wire.WireConstants} holds the protocol version and the helpers every
 * implementation must agree on (the hello transcript that is signed).
 */
@Export
@Version("1.0.0")
package dev.meshwork.api.wire;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
