using System.IO.MemoryMappedFiles;

namespace Duckton.Node.Trust;

/// <summary>
/// An exclusive OS lock on a lock file, held until disposed (an advisory <c>flock</c> on Unix, a share-none open on
/// Windows). Released by the kernel when the process dies, so a SIGKILLed holder never blocks the others.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the lock, calling <paramref name="whileBusy"/> each time another
    /// holds it (so a holder that keeps the lock between sessions learns that someone waits and lets go).
    /// </summary>
    public static FileLock Acquire(string path, TimeSpan timeout, Action? whileBusy = null)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var wait = 1;
        while (true)
        {
            try
            {
                // .NET takes flock(LOCK_EX | LOCK_NB) for FileShare.None and fails with IOException while another holds it.
                return new FileLock(new FileStream(path, options));
            }
            catch (IOException) when (Environment.TickCount64 < deadline && File.Exists(path))
            {
                whileBusy?.Invoke();
                Thread.Sleep(wait);
                wait = Math.Min(wait * 2, 8); // sessions are short: poll often rather than sleep through the holder's release
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new TimeoutException($"another process held {path} for over {timeout.TotalSeconds:0} s", e);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Two 64-bit sequence numbers in a small memory-mapped file shared by every process using one trust store: the
/// store-wide change sequence and the deny-list's. Reading them is a memory read (no system call), which lets the
/// query path notice another process's change without opening a file. The two are only written under the store's lock.
/// A third number is written by processes waiting for that lock: when one last wanted it (on the system-wide monotonic
/// clock), so a process keeping the store open between its sessions lets go within milliseconds.
/// </summary>
internal sealed class SharedSequence : IDisposable
{
    private const int Size = 24;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    public SharedSequence(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        var stream = new FileStream(path, options);
        try
        {
            if (stream.Length < Size)
            {
                stream.SetLength(Size); // concurrent creators both extend it to the same size: harmless
            }
            _file = MemoryMappedFile.CreateFromFile(stream, mapName: null, Size, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        _view = _file.CreateViewAccessor(0, Size, MemoryMappedFileAccess.ReadWrite);
    }

    public long Seq => _view.ReadInt64(0);

    public long BlockSeq => _view.ReadInt64(8);

    /// <summary><see cref="Environment.TickCount64"/> when a process last waited for the store's lock (0: never).</summary>
    public long WantedAt => _view.ReadInt64(16);

    /// <summary>Says that this process is waiting for the store's lock (an aligned 8-byte write: never torn).</summary>
    public void Want() => _view.Write(16, Environment.TickCount64);

    public void Publish(long seq, long blockSeq)
    {
        // The deny-list's number last: a reader that sees it move reloads and finds the committed change.
        _view.Write(0, seq);
        _view.Write(8, blockSeq);
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
