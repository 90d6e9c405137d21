using System.Collections.Frozen;
using System.Text;
using Duckton.Core.Toml;

namespace Duckton.Core.Configuration;

/// <summary>
/// The node's layered configuration, lowest to highest: built-in defaults ← TOML file (<c>config.toml</c> in the
/// config directory, then <c>$P2P_CONFIG</c>) ← environment <c>P2P_*</c> ← runtime layer (SQL setters, persisted
/// as <c>runtime.toml</c>, owner-only) ← per-call overrides.
/// </summary>
/// <remarks>
/// Resolved once and again only when an input changed, never per query: the environment is read when the store is
/// created (as a process reads it at start), and the files are watched (<see cref="ConfigFileWatch"/>), so a
/// <c>p2p_set</c> through any store of this process is seen at once, and a change by another process or by hand
/// within moments. Writers are serialised within the process (a lock) and across processes (an exclusive lock file
/// next to the runtime file), so two setters cannot lose each other's change; the runtime file is replaced
/// atomically (write a temporary file, then rename), so a reader never sees half a file.
/// </remarks>
public sealed class ConfigStore
{
    private readonly Func<string, string?> _environment;
    private readonly string _workingDirectory;
    private readonly Lock _writeLock = new();
    private readonly ConfigFileWatch[] _watches;
    private readonly ConfigFileWatch _runtimeWatch;

    /// <param name="configDirectory">The config directory (see <see cref="ConfigPaths.ResolveConfigDirectory"/>).</param>
    /// <param name="environment">Reads an environment variable; defaults to the process environment (tests inject their own). Read once, here.</param>
    /// <param name="workingDirectory">Root against which a relative <c>$P2P_CONFIG</c> path is resolved; defaults to the current directory.</param>
    public ConfigStore(string configDirectory, Func<string, string?>? environment = null, string? workingDirectory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configDirectory);
        _environment = Snapshot(environment ?? Environment.GetEnvironmentVariable);
        _workingDirectory = Path.GetFullPath(workingDirectory ?? Directory.GetCurrentDirectory());
        ConfigDirectory = Path.GetFullPath(configDirectory, _workingDirectory);
        RuntimeFilePath = ConfigPaths.RuntimeFile(ConfigDirectory, _environment);
        _runtimeWatch = ConfigFileWatch.For(RuntimeFilePath);
        var watched = new List<string> { ConfigPaths.ConfigFile(ConfigDirectory) };
        if (NamedConfigFile is { } named)
        {
            watched.Add(named);
        }
        _watches = [.. watched.Distinct(StringComparer.Ordinal).Where(p => p != RuntimeFilePath).Select(ConfigFileWatch.For), _runtimeWatch];
        RemoveStaleTempFiles(RuntimeFilePath, TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// Deletes <c>.runtime.toml.*.tmp</c> files a killed process left behind (a write renames its temp file into place
    /// within milliseconds, so one older than <paramref name="age"/> belongs to nobody). Returns how many were removed.
    /// </summary>
    public static int RemoveStaleTempFiles(string runtimeFile, TimeSpan age)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(runtimeFile))!;
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        var removed = 0;
        try
        {
            foreach (var temp in Directory.EnumerateFiles(directory, "." + Path.GetFileName(runtimeFile) + ".*.tmp"))
            {
                try
                {
                    if (DateTime.UtcNow - File.GetLastWriteTimeUtc(temp) > age)
                    {
                        File.Delete(temp);
                        removed++;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Not ours to remove, or gone already.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable directory: the runtime layer reports that itself when it is used.
        }
        return removed;
    }

    /// <summary>
    /// The environment as it is now, for every name configuration reads: a running process's environment does not
    /// change under it, and reading ~260 variables per resolution would cost more than the resolution's cache saves.
    /// </summary>
    private static Func<string, string?> Snapshot(Func<string, string?> environment)
    {
        var names = s_environmentNames.Concat(ConfigCatalog.ReservedEnvVars).Distinct(StringComparer.Ordinal);
        var values = names.Select(n => (Name: n, Value: environment(n))).Where(v => v.Value is not null)
            .ToFrozenDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => values.TryGetValue(name, out var value) ? value : null;
    }

    private string? NamedConfigFile =>
        _environment(ConfigPaths.ConfigFileEnv) is { } named && !string.IsNullOrWhiteSpace(named)
            ? Path.GetFullPath(named, _workingDirectory)
            : null;

    /// <summary>Opens the store of the config directory resolved from <c>--config-dir</c>, <c>$P2P_CONFIG_DIR</c> or the platform default.</summary>
    public static ConfigStore Open(string? explicitConfigDirectory = null, Func<string, string?>? environment = null, string? homeDirectory = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return new ConfigStore(ConfigPaths.ResolveConfigDirectory(explicitConfigDirectory, environment, homeDirectory), environment);
    }

    public string ConfigDirectory { get; }

    /// <summary>Where the runtime layer is persisted.</summary>
    public string RuntimeFilePath { get; }

    /// <summary>The TOML files of the file layer, lowest first: <c>config.toml</c> (if present), then <c>$P2P_CONFIG</c> (must exist when set).</summary>
    public IReadOnlyList<string> ConfigFiles
    {
        get
        {
            var files = new List<string>(2);
            var inDirectory = ConfigPaths.ConfigFile(ConfigDirectory);
            if (File.Exists(inDirectory))
            {
                files.Add(inDirectory);
            }
            if (NamedConfigFile is { } full && !files.Contains(full))
            {
                files.Add(full);
            }
            return files;
        }
    }

    /// <summary>
    /// The configuration in force (defaults ← files ← environment ← runtime), validated as a whole. Resolved again only
    /// when a watched file changed: every grid query and gossip round asks for it, so a current answer costs a few
    /// volatile reads and no I/O. A resolution that fails is not kept, so the error is reported on every call.
    /// </summary>
    public EffectiveConfig Effective()
    {
        // Read the version before the files: a change during the resolution moves it, and the next call resolves again.
        var version = InputsVersion();
        if (Volatile.Read(ref _resolved) is { } hit && hit.Version == version)
        {
            return hit.Config;
        }
        var config = Resolve(LoadRuntimeLayer());
        Interlocked.Increment(ref _resolutions);
        Volatile.Write(ref _resolved, new ResolvedCache(version, config));
        return config;
    }

    /// <summary>How many times this store resolved the configuration from its inputs (tests check it stays off the per-query path).</summary>
    internal long Resolutions => Interlocked.Read(ref _resolutions);

    private sealed record ResolvedCache(long Version, EffectiveConfig Config);

    private sealed record OverrideCache(EffectiveConfig Base, List<KeyValuePair<string, string>> Overrides, EffectiveConfig Config);

    private ResolvedCache? _resolved;
    private OverrideCache? _lastOverrides;
    private long _resolutions;

    /// <summary>Sum of the watched files' change counters: each only grows, so the sum changes whenever one does.</summary>
    private long InputsVersion()
    {
        long sum = 0;
        foreach (var watch in _watches)
        {
            sum += watch.Version;
        }
        return sum;
    }

    private static readonly string[] s_environmentNames = [.. ConfigCatalog.Keys.SelectMany(k => k.EnvVars).Distinct(StringComparer.Ordinal)];

    /// <summary>The configuration in force with per-call overrides (key → value text) on top.</summary>
    public EffectiveConfig Effective(IEnumerable<KeyValuePair<string, string>> callOverrides)
    {
        ArgumentNullException.ThrowIfNull(callOverrides);
        var baseConfig = Effective();
        var list = callOverrides.ToList();
        // The same overrides on the same base (a workload repeating its p2p_query options) resolve once.
        if (Volatile.Read(ref _lastOverrides) is { } last && ReferenceEquals(last.Base, baseConfig) && last.Overrides.SequenceEqual(list))
        {
            return last.Config;
        }
        var config = baseConfig.WithOverrides(list);
        Volatile.Write(ref _lastOverrides, new OverrideCache(baseConfig, list, config));
        return config;
    }

    /// <summary>The <c>p2p_config()</c> rows of the configuration in force (secrets redacted).</summary>
    public IReadOnlyList<ConfigEntry> Entries() => Effective().Entries();

    /// <summary>The keys and values the runtime layer currently sets.</summary>
    public IReadOnlyDictionary<string, ConfigValue> RuntimeOverrides() =>
        LoadRuntimeLayer().ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);

    /// <summary>
    /// Sets one key in the runtime layer (<c>p2p_set</c>). The value text is read per the key's type; the whole
    /// resulting configuration is validated, and only a valid result is persisted.
    /// </summary>
    /// <exception cref="ConfigException">Unknown key, unreadable value, or an invalid resulting configuration; nothing changes.</exception>
    public EffectiveConfig Set(string key, string valueText) => Set([new KeyValuePair<string, string>(key, valueText)]);

    /// <summary>Sets several keys at once: all are applied and persisted together, or none is.</summary>
    public EffectiveConfig Set(IEnumerable<KeyValuePair<string, string>> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        // Read every value first: an unknown key or unreadable value fails before anything is touched.
        var parsed = new Dictionary<string, ResolvedValue>(StringComparer.Ordinal);
        foreach (var (key, text) in changes)
        {
            var resolved = ConfigLayers.ParseText(key, text, ConfigSource.Runtime, origin: null);
            parsed[ConfigCatalog.Get(key.Trim()).Key] = resolved;
        }
        bool AlreadySet(Dictionary<string, ResolvedValue> runtime) =>
            parsed.All(p => runtime.TryGetValue(p.Key, out var v) && v.Value.Equals(p.Value.Value));
        Dictionary<string, ResolvedValue> WithChanges(Dictionary<string, ResolvedValue> runtime)
        {
            foreach (var (key, value) in parsed)
            {
                runtime[key] = value;
            }
            return runtime;
        }
        // Setting what the runtime layer already holds (every shell on one config directory joining the same seeds)
        // neither takes the lock nor rewrites the file: many processes would otherwise queue on the lock for nothing.
        var current = LoadRuntimeLayer();
        if (AlreadySet(current))
        {
            return Effective();
        }
        // Validate without taking the lock, so a rejected change leaves the disk exactly as it was;
        // then validate again under the lock, against what other writers may have written meanwhile.
        Resolve(WithChanges(current));
        lock (_writeLock)
        {
            using var fileLock = AcquireFileLock();
            var runtime = LoadRuntimeLayer();
            if (!AlreadySet(runtime))
            {
                runtime = WithChanges(runtime);
                Resolve(runtime);
                WriteRuntimeLayer(runtime);
            }
        }
        return Effective();
    }

    /// <summary>Removes one key from the runtime layer, so lower layers apply again.</summary>
    public EffectiveConfig Unset(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var descriptor = ConfigCatalog.TryGet(key.Trim(), out var d) ? d : throw ConfigException.UnknownKey(key, null);
        lock (_writeLock)
        {
            using var fileLock = AcquireFileLock();
            var runtime = LoadRuntimeLayer();
            if (runtime.Remove(descriptor.Key))
            {
                Resolve(runtime);
                WriteRuntimeLayer(runtime);
            }
        }
        return Effective();
    }

    /// <summary>Drops the whole runtime layer (<c>p2p_config_reset()</c>): deletes the runtime file.</summary>
    public EffectiveConfig Reset()
    {
        lock (_writeLock)
        {
            using var fileLock = AcquireFileLock();
            if (File.Exists(RuntimeFilePath))
            {
                File.Delete(RuntimeFilePath);
                _runtimeWatch.Touch();
            }
        }
        return Effective();
    }

    /// <summary>
    /// Holds an exclusive lock on <c>.runtime.toml.lock</c> until disposed; waits up to 30 s for other writers (each
    /// holds it for one small write, but many processes on one directory of a starved machine queue behind each other).
    /// </summary>
    private FileStream AcquireFileLock()
    {
        var directory = Path.GetDirectoryName(RuntimeFilePath)!;
        OwnerOnlyFile.EnsureDirectory(directory, protect: string.Equals(directory, ConfigDirectory, StringComparison.Ordinal));
        var path = Path.Combine(directory, "." + Path.GetFileName(RuntimeFilePath) + ".lock");
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        var deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            try
            {
                return new FileStream(path, options);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                Thread.Sleep(20); // another process is writing the runtime layer
            }
        }
    }

    private EffectiveConfig Resolve(Dictionary<string, ResolvedValue> runtime)
    {
        var merged = ConfigCatalog.Keys.ToDictionary(
            k => k.Key, k => new ResolvedValue(k.Default, ConfigSource.Default, null), StringComparer.Ordinal);
        foreach (var file in ConfigFiles)
        {
            if (!File.Exists(file))
            {
                throw new ConfigException($"{ConfigPaths.ConfigFileEnv}={file}: configuration file does not exist", null, null, file);
            }
            Overlay(merged, ConfigLayers.ReadFile(file, ConfigSource.File));
        }
        Overlay(merged, ConfigLayers.ReadEnvironment(_environment));
        Overlay(merged, runtime);
        return EffectiveConfig.Build(merged);
    }

    private static void Overlay(Dictionary<string, ResolvedValue> merged, Dictionary<string, ResolvedValue> layer)
    {
        foreach (var (key, value) in layer)
        {
            merged[key] = value;
        }
    }

    private Dictionary<string, ResolvedValue> LoadRuntimeLayer() =>
        File.Exists(RuntimeFilePath)
            ? ConfigLayers.ReadFile(RuntimeFilePath, ConfigSource.Runtime)
            : new Dictionary<string, ResolvedValue>(StringComparer.Ordinal);

    private void WriteRuntimeLayer(Dictionary<string, ResolvedValue> runtime)
    {
        if (runtime.Count == 0)
        {
            if (File.Exists(RuntimeFilePath)) File.Delete(RuntimeFilePath);
            _runtimeWatch.Touch();
            return;
        }
        var document = new TomlTable();
        foreach (var key in ConfigCatalog.Keys)
        {
            if (!runtime.TryGetValue(key.Key, out var resolved)) continue;
            var table = document;
            var parts = key.Key.Split('.');
            for (var i = 0; i < parts.Length - 1; i++)
            {
                if (!table.TryGetValue(parts[i], out var child))
                {
                    child = new TomlTable();
                    table.Set(parts[i], child);
                }
                table = (TomlTable)child;
            }
            table.Set(parts[^1], resolved.Value.ToToml());
        }
        var text = "# Runtime configuration layer, written by duckton's SQL setters (p2p_set, p2p_share, ...).\n"
                 + "# It overrides config.toml and P2P_* variables; SELECT * FROM p2p_config_reset() removes it.\n\n"
                 + TomlWriter.Write(document);
        OwnerOnlyFile.WriteAtomically(RuntimeFilePath, Encoding.UTF8.GetBytes(text),
            protectDirectory: string.Equals(Path.GetDirectoryName(RuntimeFilePath), ConfigDirectory, StringComparison.Ordinal));
        // Every store of this process sees the change at once; other processes through their watchers.
        _runtimeWatch.Touch();
    }
}

/// <summary>Writes files readable by the owner only (0600 in a 0700 directory), replacing them atomically.</summary>
internal static class OwnerOnlyFile
{
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirMode700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static void WriteAtomically(string path, ReadOnlySpan<byte> content, bool protectDirectory)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        EnsureDirectory(directory, protectDirectory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, FileMode600); // the umask may have narrowed it further; never wider
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Creates the directory owner-only; an existing one is narrowed to 0700 when <paramref name="protect"/>.</summary>
    public static void EnsureDirectory(string directory, bool protect)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirMode700);
        }
        if (protect && (File.GetUnixFileMode(directory) & ~DirMode700) != 0)
        {
            File.SetUnixFileMode(directory, DirMode700);
        }
    }
}
