using Microsoft.Extensions.Logging;

namespace Duckton;

/// <summary>How a <see cref="DucktonNode"/> is created. Immutable; use <c>with</c> to derive variants.</summary>
public sealed record DucktonNodeOptions
{
    /// <summary>
    /// The node's configuration directory: its Ed25519 identity, configuration files and trust store. The directory
    /// <em>is</em> the node: two nodes in one grid need two directories. Null: <c>DUCKTON_CONFIG_DIR</c>, else the
    /// user's default (<c>~/.config/duckton</c>).
    /// </summary>
    public string? ConfigDirectory { get; init; }

    /// <summary>
    /// Configuration keys set for this node only (e.g. <c>["scheduler.quorum"] = "2"</c>), as if given by environment
    /// variables: above the configuration files, below <see cref="DucktonNode.SetConfigAsync"/>. Never written to disk.
    /// Validated like every other layer: an unknown key or a bad value fails node creation.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Configuration { get; init; }

    /// <summary>Where the node logs its decisions (the fail-closed ones above all); none when null.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The clock of timeouts, receipts and gossip; <see cref="System.TimeProvider.System"/> when null.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// How many queries and commands run at once. Each runs on one of this many dedicated threads (DuckDB's C API
    /// blocks); callers beyond it wait asynchronously, holding no thread. Default: the number of processors, at least 2.
    /// </summary>
    public int MaxConcurrentOperations { get; init; } = Math.Max(2, Environment.ProcessorCount);
}
