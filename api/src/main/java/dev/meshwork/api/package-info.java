/**
 * Core value types shared by every Meshwork service: node ids, backoff policies and the typed
 * failure hierarchy.
 *
 * <p>Everything in {@code dev.meshwork.api.*} is immutable or a service contract; nothing here
 * starts a thread or holds a resource.
 */
@Export
@Version("1.0.0")
package dev.meshwork.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
