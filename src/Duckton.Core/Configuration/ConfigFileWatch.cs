using System.Collections.Concurrent;

namespace Duckton.Core.Configuration;

/// <summary>
/// A process-wide change counter for one configuration file, so a <see cref="ConfigStore"/> can tell whether its
/// resolved configuration is still current with one volatile read instead of reading and hashing the files.
/// </summary>
/// <remarks>
/// <para>The counter moves on three signals. Writers in this process (<c>p2p_set</c> through any store of the same
/// directory) call <see cref="Touch"/> after replacing the file, so their change is seen at once. A
/// <see cref="FileSystemWatcher"/> on the file's directory catches writers in other processes and edits by hand,
/// typically within milliseconds. Where no watcher can run (the directory does not exist yet, the watcher failed or
/// overflowed) a shared timer compares the file's size and modification time every <see cref="PollInterval"/> and
/// starts a watcher as soon as the directory exists.</para>
/// <para>One instance per full path for the life of the process: a handful of files in a node, and the watchers
/// are cheap (on .NET 10 all watchers share one inotify instance).</para>
/// </remarks>
internal sealed class ConfigFileWatch
{
    /// <summary>How often unwatched files are compared by size and modification time.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private static readonly ConcurrentDictionary<string, ConfigFileWatch> s_byPath = new(StringComparer.Ordinal);
    private static readonly Lock s_pollLock = new();
    private static Timer? s_pollTimer;
    private static int s_polling;

    private readonly Lock _lock = new();
    private long _version;
    private FileSystemWatcher? _watcher;
    private (bool Exists, long Length, DateTime WriteTime) _lastStat;

    private ConfigFileWatch(string path)
    {
        Path = path;
        _lastStat = Stat(path);
        TryStartWatcher();
    }

    /// <summary>The watched file (full path).</summary>
    public string Path { get; }

    /// <summary>Grows on every observed change; compare two readings to know whether the file may have changed.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>True while a file-system watcher covers the file (otherwise the timer polls it).</summary>
    public bool Watched
    {
        get
        {
            lock (_lock)
            {
                return _watcher is not null;
            }
        }
    }

    /// <summary>The watch of <paramref name="fullPath"/>, created on first use.</summary>
    public static ConfigFileWatch For(string fullPath) => s_byPath.GetOrAdd(fullPath, static p => new ConfigFileWatch(p));

    /// <summary>Records a change made by this process (called after the file was replaced or deleted).</summary>
    public void Touch() => Interlocked.Increment(ref _version);

    private void TryStartWatcher()
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (directory is null || !Directory.Exists(directory))
        {
            EnsurePolling();
            return;
        }
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(directory, System.IO.Path.GetFileName(Path))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            watcher.Changed += OnChange;
            watcher.Created += OnChange;
            watcher.Deleted += OnChange;
            watcher.Renamed += OnChange;
            watcher.Error += OnError;
            watcher.EnableRaisingEvents = true;
            lock (_lock)
            {
                _watcher = watcher;
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            // No watcher here (inotify limits, an odd file system): the timer keeps the file covered.
            watcher?.Dispose();
            EnsurePolling();
        }
    }

    private void OnChange(object sender, FileSystemEventArgs e) => Touch();

    private void OnError(object sender, ErrorEventArgs e)
    {
        // Events may have been lost (queue overflow, directory removed): assume a change and fall back to polling
        // until a fresh watcher is running.
        lock (_lock)
        {
            _watcher?.Dispose();
            _watcher = null;
        }
        Touch();
        EnsurePolling();
    }

    private static void EnsurePolling()
    {
        lock (s_pollLock)
        {
            s_pollTimer ??= new Timer(static _ => PollAll(), null, PollInterval, PollInterval);
        }
    }

    private static void PollAll()
    {
        // Timer callbacks may overlap on a loaded machine; one poll at a time keeps one watcher per file.
        if (Interlocked.Exchange(ref s_polling, 1) == 1)
        {
            return;
        }
        try
        {
            foreach (var watch in s_byPath.Values)
            {
                try
                {
                    watch.Poll();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    watch.Touch(); // cannot tell: let the next resolution read the file and report
                }
            }
        }
        finally
        {
            Volatile.Write(ref s_polling, 0);
        }
    }

    private void Poll()
    {
        if (Watched)
        {
            return;
        }
        var stat = Stat(Path);
        if (stat != _lastStat)
        {
            _lastStat = stat;
            Touch();
        }
        TryStartWatcher();
        if (Watched)
        {
            Touch(); // the file may have changed between the last poll and the watcher's start
        }
    }

    private static (bool, long, DateTime) Stat(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (true, info.Length, info.LastWriteTimeUtc) : (false, 0, default);
    }
}
