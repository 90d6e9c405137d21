using System.Collections.Concurrent;
using System.Text;

namespace Duckton.Transport;

/// <summary>
/// TOFU pins: the node id first seen at each dialled address. File format (UTF-8): one <c>&lt;address&gt; &lt;node_id&gt;</c> per line,
/// <c>#</c> comments. Rewritten atomically (temporary file + rename), mode 0600. Deleting a line forgets that peer.
/// </summary>
/// <remarks>One instance per file per process (shared by every connector and pool); other processes' additions are merged by
/// re-reading the file before each write, so concurrent writers can at worst lose a pin that is re-learned on the next contact.</remarks>
internal sealed class KnownPeers
{
    public const string FileName = "known_peers";

    private static readonly ConcurrentDictionary<string, KnownPeers> s_files = new(StringComparer.Ordinal);

    private readonly Lock _lock = new();
    private readonly string? _path;
    private Dictionary<string, string> _pins = new(StringComparer.Ordinal);
    private DateTime _loadedStamp = DateTime.MinValue;
    private long _loadedLength = -1;

    private KnownPeers(string? path) => _path = path;

    public string Description => _path ?? "the in-memory pin table";

    public static KnownPeers InMemory() => new(null);

    public static KnownPeers ForFile(string path) => s_files.GetOrAdd(Path.GetFullPath(path), static p => new KnownPeers(p));

    public static KnownPeers For(NodeIdentity identity, TransportOptions options) =>
        options.KnownPeersPath is { } path ? ForFile(path)
        : identity.ConfigDirectory is { } dir ? ForFile(Path.Combine(dir, FileName))
        : identity.EphemeralPins;

    /// <summary>The node id pinned for <paramref name="address"/> (normalised), or null.</summary>
    public string? Lookup(string address)
    {
        lock (_lock)
        {
            Refresh();
            return _pins.GetValueOrDefault(address);
        }
    }

    /// <summary>Pins <paramref name="nodeId"/> for <paramref name="address"/> unless a pin exists.</summary>
    public void Remember(string address, string nodeId)
    {
        lock (_lock)
        {
            Refresh();
            if (_pins.ContainsKey(address))
            {
                return;
            }
            _pins[address] = nodeId;
            if (_path is not null)
            {
                Save(_path);
            }
        }
    }

    private void Refresh()
    {
        if (_path is null)
        {
            return;
        }
        var info = new FileInfo(_path);
        if (!info.Exists)
        {
            return;
        }
        if (info.LastWriteTimeUtc == _loadedStamp && info.Length == _loadedLength)
        {
            return;
        }
        _pins = Parse(_path, File.ReadAllText(_path, Encoding.UTF8));
        _loadedStamp = info.LastWriteTimeUtc;
        _loadedLength = info.Length;
    }

    private static Dictionary<string, string> Parse(string path, string text)
    {
        var pins = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !NodeIdentity.IsValidNodeId(parts[1]))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected '<host:port> <node_id>', found '{line}'. Fix or delete that line.");
            }
            string address;
            try
            {
                address = PeerAddress.Normalize(parts[0]);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {ex.Message}. Fix or delete that line.");
            }
            pins.TryAdd(address, parts[1]);
        }
        return pins;
    }

    private void Save(string path)
    {
        var sb = new StringBuilder("# duckton known peers (TOFU pins): <host:port> <node_id>. Delete a line to forget that peer.\n");
        foreach (var (address, nodeId) in _pins.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sb.Append(address).Append(' ').Append(nodeId).Append('\n');
        }
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(sb.ToString()));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        var info = new FileInfo(path);
        _loadedStamp = info.LastWriteTimeUtc;
        _loadedLength = info.Length;
    }
}
