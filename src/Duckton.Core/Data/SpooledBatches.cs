using System.Buffers;
using System.Security.Cryptography;

namespace Duckton.Core.Data;

/// <summary>
/// The batches of a result being received: kept decoded in memory up to a byte budget, beyond it appended (in their
/// encoded form) to an owner-only temp file and decoded again one at a time when read. The file is deleted on
/// <see cref="Dispose"/> (and, as a fallback, when its handle is finalised).
/// </summary>
/// <remarks>Reads decode on demand and keep only the last batch: a sequential scan holds one batch, not the result.</remarks>
public sealed class SpooledBatches : IReadOnlyList<ResultBatch>, IDisposable
{
    private readonly ResultSchema _schema;
    private readonly long _memoryBudget;
    private readonly string _directory;
    private readonly CodecLimits _limits;
    private readonly List<ResultBatch> _memory = [];
    private readonly Lock _gate = new();
    private readonly SpillFile _spill;
    private long _memoryBytes;
    private int _cachedIndex = -1;
    private ResultBatch? _cached;
    private bool _disposed;

    /// <param name="memoryBudget">Encoded bytes kept in memory before spilling (0 = spill everything).</param>
    /// <param name="directory">Where the spill file goes; created owner-only (0700) if missing.</param>
    public SpooledBatches(ResultSchema schema, long memoryBudget, string directory, CodecLimits? limits = null)
    {
        _schema = schema;
        _memoryBudget = Math.Max(0, memoryBudget);
        _directory = directory;
        _limits = limits ?? CodecLimits.Default;
        _spill = new SpillFile(directory);
    }

    /// <summary>The spill file while it exists, else null (nothing spilled, or disposed).</summary>
    public string? FilePath => _spill.Path;

    public bool Spilled => _spill.Count > 0;
    public long SpilledBytes => _spill.Length;
    public long RowCount { get; private set; }
    public int Count => _memory.Count + _spill.Count;

    /// <summary>Appends a received batch; <paramref name="encoded"/> is its wire form (what is written when spilling).</summary>
    public void Add(ResultBatch batch, ReadOnlySpan<byte> encoded)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RowCount += batch.RowCount;
        // Order is kept by never going back to memory once spilling started.
        if (_spill.Count == 0 && _memoryBytes + encoded.Length <= _memoryBudget)
        {
            _memory.Add(batch);
            _memoryBytes += encoded.Length;
            return;
        }
        lock (_gate)
        {
            _spill.Append(encoded);
        }
    }

    public ResultBatch this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }
            if (index < _memory.Count)
            {
                return _memory[index];
            }
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (index == _cachedIndex)
                {
                    return _cached!;
                }
                var spilled = index - _memory.Count;
                var length = _spill.LengthOf(spilled);
                var buffer = ArrayPool<byte>.Shared.Rent(length);
                try
                {
                    _spill.Read(spilled, buffer.AsSpan(0, length));
                    _cached = BatchCodec.DecodeBatch(buffer.AsSpan(0, length), _schema, _limits);
                    _cachedIndex = index;
                    return _cached;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    public IEnumerator<ResultBatch> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Deletes spill files left in <paramref name="directory"/> by a process that was killed before it could close them
    /// (a clean close deletes them). Safe while another process still spills there: on Unix an open file keeps its
    /// data after its name is removed; elsewhere a file in use is skipped. Returns how many were removed.
    /// </summary>
    public static int RemoveLeftovers(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "spill-*.bin"))
        {
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // in use (Windows) or not ours to delete: leave it
            }
        }
        return removed;
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="file"/> at <paramref name="offset"/> (what was written there before).</summary>
    internal static void ReadAt(FileStream file, Span<byte> buffer, long offset)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = RandomAccess.Read(file.SafeFileHandle, buffer[read..], offset + read);
            if (n <= 0)
            {
                throw new EndOfStreamException("the spill file is shorter than what was written to it");
            }
            read += n;
        }
    }

    /// <summary>A new owner-only spill file in <paramref name="directory"/> (made owner-only if missing), deleted when closed.</summary>
    internal static FileStream CreateSpillFile(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var path = Path.Combine(directory, "spill-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)) + ".bin");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, // O_EXCL: never follows a planted symlink
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.DeleteOnClose,
            BufferSize = 1 << 16,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return new FileStream(path, options);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _cached = null;
            _memory.Clear();
            _spill.Dispose();
        }
    }
}

/// <summary>
/// The spilled part of a spool: encoded batches appended to one owner-only file (created on the first append, deleted
/// when closed) and read back by position. Not thread-safe: its owner serialises appends and reads.
/// </summary>
internal sealed class SpillFile(string directory) : IDisposable
{
    private readonly List<(long Offset, int Length)> _entries = [];
    private FileStream? _file;
    private bool _dirty;

    /// <summary>The file while it exists (null before the first append and after disposal).</summary>
    public string? Path => _file?.Name;
    public int Count => _entries.Count;
    public long Length { get; private set; }

    public int LengthOf(int index) => _entries[index].Length;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        var file = _file ??= SpooledBatches.CreateSpillFile(directory);
        file.Write(bytes);
        _entries.Add((Length, bytes.Length));
        Length += bytes.Length;
        _dirty = true;
    }

    /// <summary>Fills <paramref name="into"/> (exactly <see cref="LengthOf"/> bytes) with entry <paramref name="index"/>.</summary>
    public void Read(int index, Span<byte> into)
    {
        if (_dirty)
        {
            _file!.Flush(); // what was written becomes visible to positional reads
            _dirty = false;
        }
        SpooledBatches.ReadAt(_file!, into, _entries[index].Offset);
    }

    public void Dispose()
    {
        var file = _file;
        _file = null;
        file?.Dispose();
    }
}
