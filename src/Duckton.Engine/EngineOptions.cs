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

    /// <summary>
    /// Where a job's DuckDB spills what does not fit in <see cref="MemoryLimitBytes"/> (<c>sandbox.temp_dir_policy</c>):
    /// <c>Ephemeral</c> = each job finds its directory empty and unused (one per engine instance, under
    /// <see cref="SpillDirectory"/> or the system temp directory; an instance whose directory a job wrote to is closed and
    /// its directory deleted after that job); <c>Inherit</c> = one directory for this engine's process, deleted when the engine is disposed;
    /// <c>Custom</c> = <see cref="SpillDirectory"/> itself. Null (default): no spilling, the local file system stays switched
    /// off and a query past its memory limit fails. A job may read its spill directory but never write a file itself.
    /// </summary>
    public global::Duckton.Core.Configuration.TempDirPolicy? SpillPolicy { get; init; }

    /// <summary>Absolute directory for <see cref="SpillPolicy"/> <c>Custom</c>, or the parent of the per-job directories of
    /// <c>Ephemeral</c> (empty = the system temp directory). <c>sandbox.temp_dir</c>.</summary>
    public string SpillDirectory { get; init; } = "";

    public static EngineOptions Default { get; } = new();
}
