/**
 * Supervision of local gateway processes: one {@link dev.meshwork.api.lifecycle.LifecycleController}
 * per configured gateway, {@link dev.meshwork.api.lifecycle.LifecycleListener}s for its
 * transitions, and the {@link dev.meshwork.api.lifecycle.Probe} SPI for readiness and heartbeat.
 */
@Export
@Version("1.1.0")
package dev.meshwork.api.lifecycle;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
