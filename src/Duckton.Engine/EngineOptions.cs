namespace Duckton.Engine;

/// <summary>Limits of the locked-down engine that runs untrusted SQL.</summary>
public sealed record EngineOptions
{
    /// <summary>DuckDB <c>max_memory</c> per job, in bytes. Default 1 GiB.</summary>
    public long MemoryLimitBytes { get; init; } = 1L << 30;

    /// <summary>DuckDB worker threads per job. Default: the machine's core count.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Instances opened ahead of time so a small query does not pay the ~20 ms open. Default 2.</summary>
    public int WarmInstances { get; init; } = 2;

    /// <summary>A materialised result larger than this fails the job. Default 4 GiB.</summary>
    public long MaxResultBytes { get; init; } = 4L << 30;

    /// <summary>
    /// Directories (<c>storage.allowed_local_paths</c>) whose files queries may read; nothing else on disk is reachable and
    /// nothing may be written. Empty (default): no file access at all.
    /// </summary>
    public IReadOnlyList<string> AllowedDirectories { get; init; } = [];

    public static EngineOptions Default { get; } = new();
}
