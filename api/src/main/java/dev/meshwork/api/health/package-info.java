/**
 * The replicated picture of the mesh's health: every node's own observations (peers up and
 * down, routes, RTT, starts and stops, gateway states), merged into one view on every node.
 */
@Export
@Version("1.0.0")
package dev.meshwork.api.health;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
