using System.Security.Cryptography;
using System.Text;
using Duckton.Core.Crypto;
using Duckton.Core.Hashing;

namespace Duckton.Transport;

/// <summary>
/// A node's long-term identity: an Ed25519 key (libsodium) and the node id derived from it,
/// <c>node_id = "b3:" + lowercase hex(BLAKE3(public key))</c> (67 characters).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="LoadOrCreate"/> keeps the 32-byte Ed25519 seed in <c>&lt;configDirectory&gt;/node_key</c> as 64 lowercase hex
/// characters and a newline (a file of exactly 32 raw bytes is accepted too). The file is created atomically (written to a
/// temporary file, then renamed into place, under an exclusive <c>.node_key.lock</c> so concurrent first starts agree on one key)
/// with mode 0600 in a 0700 directory. An existing key file that is
/// unreadable, malformed, a symbolic link, or readable/writable by group or others is an error (<see cref="NodeIdentityException"/>),
/// never silently replaced: replacing it would change the node id.
/// </para>
/// <para>
/// The identity also owns the node's TLS credential: a self-signed ECDSA P-256 certificate generated in memory when first needed
/// and never written to disk, carrying the Ed25519 binding extension (see docs/PROTOCOL.md, "Transport"). A new certificate per
/// process is harmless because peers trust the Ed25519 binding, not the certificate.
/// </para>
/// </remarks>
public sealed class NodeIdentity : IDisposable
{
    /// <summary>The key file's name inside the configuration directory.</summary>
    public const string KeyFileName = "node_key";

    /// <summary>Prefix of every node id.</summary>
    public const string NodeIdPrefix = "b3:";

    /// <summary>Length of a node id: the prefix and 64 hex digits.</summary>
    public const int NodeIdLength = 67;

    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirMode700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly Ed25519Key _key;
    private readonly byte[] _publicKey;
    private readonly Lock _tlsLock = new();
    private TlsCredential? _tls;
    private bool _disposed;

    private NodeIdentity(Ed25519Key key, string? configDirectory, string? keyPath)
    {
        _key = key;
        _publicKey = key.PublicKey.ToArray();
        NodeId = NodeIdOf(_publicKey);
        ConfigDirectory = configDirectory;
        KeyPath = keyPath;
    }

    /// <summary>This node's id, <c>b3:</c> + 64 lowercase hex digits.</summary>
    public string NodeId { get; }

    /// <summary>The 32-byte Ed25519 public key.</summary>
    public ReadOnlyMemory<byte> PublicKey => _publicKey;

    /// <summary>The configuration directory the key was loaded from; null for an ephemeral identity.</summary>
    public string? ConfigDirectory { get; }

    /// <summary>The key file; null for an ephemeral identity.</summary>
    public string? KeyPath { get; }

    /// <summary>TOFU pins of an identity that has no configuration directory and no <see cref="TransportOptions.KnownPeersPath"/>: kept in memory.</summary>
    internal KnownPeers EphemeralPins { get; } = KnownPeers.InMemory();

    /// <summary>A new identity that lives only as long as this object (tests, throw-away nodes).</summary>
    public static NodeIdentity Create() => new(Ed25519Key.Generate(), null, null);

    /// <summary>An identity from a known 32-byte seed (tests and tools); nothing is persisted.</summary>
    public static NodeIdentity FromSeed(ReadOnlySpan<byte> seed) => new(Ed25519Key.FromSeed(seed), null, null);

    /// <summary>
    /// Loads the identity kept in <c>&lt;configDirectory&gt;/node_key</c>, creating the directory (0700) and the key (0600) on first use.
    /// </summary>
    /// <exception cref="NodeIdentityException">The key file exists but is malformed, a link, or readable by others.</exception>
    public static NodeIdentity LoadOrCreate(string configDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configDirectory);
        var directory = Path.GetFullPath(configDirectory);
        EnsurePrivateDirectory(directory);
        var path = Path.Combine(directory, KeyFileName);
        if (Exists(path))
        {
            return new NodeIdentity(Ed25519Key.FromSeed(ReadSeed(path)), directory, path);
        }
        // First start: creation is serialised across processes by an exclusive lock file, so two nodes starting at once
        // end up with one key; the key itself appears atomically (written to a temporary file, then renamed).
        using var creationLock = AcquireCreationLock(directory, path);
        if (creationLock is null || Exists(path))
        {
            return new NodeIdentity(Ed25519Key.FromSeed(ReadSeed(path)), directory, path);
        }
        var key = Ed25519Key.Generate();
        try
        {
            WriteKeyFile(path, key.Seed);
            return new NodeIdentity(key, directory, path);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The node id of an Ed25519 public key: <c>"b3:" + lowercase hex(BLAKE3(publicKey))</c>.</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes.</exception>
    public static string NodeIdOf(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Ed25519Key.PublicKeyLength)
        {
            throw new ArgumentException($"an Ed25519 public key is {Ed25519Key.PublicKeyLength} bytes, got {publicKey.Length}", nameof(publicKey));
        }
        Span<byte> digest = stackalloc byte[Blake3.HashSize];
        Blake3.Hash(publicKey, digest);
        return NodeIdPrefix + Convert.ToHexStringLower(digest);
    }

    /// <summary>True when <paramref name="nodeId"/> is <c>b3:</c> followed by exactly 64 lowercase hex digits.</summary>
    public static bool IsValidNodeId(string? nodeId)
    {
        if (nodeId is null || nodeId.Length != NodeIdLength || !nodeId.StartsWith(NodeIdPrefix, StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in nodeId.AsSpan(NodeIdPrefix.Length))
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// True only when <paramref name="publicKey"/> is the key of <paramref name="nodeId"/> AND <paramref name="signature"/> is its valid
    /// Ed25519 signature of <paramref name="message"/>.
    /// </summary>
    public static bool Verify(string nodeId, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (!IsValidNodeId(nodeId) || publicKey.Length != Ed25519Key.PublicKeyLength)
        {
            return false;
        }
        return string.Equals(NodeIdOf(publicKey), nodeId, StringComparison.Ordinal)
            && Ed25519Key.Verify(publicKey, message, signature);
    }

    /// <summary>
    /// The private key kept in the node key file <paramref name="path"/>, with the same checks as <see cref="LoadOrCreate"/>
    /// (owner-only, not a link, well-formed). For a node that uses its identity key as its TON wallet key (its stake vault
    /// is then at the address every peer derives from its node id); the caller owns and disposes the key.
    /// </summary>
    /// <exception cref="NodeIdentityException">The file is missing, malformed, a link, or readable by others.</exception>
    public static Ed25519Key ReadKey(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Exists(path))
        {
            throw new NodeIdentityException($"the node key {path} does not exist.");
        }
        return Ed25519Key.FromSeed(ReadSeed(path));
    }

    /// <summary>Signs <paramref name="message"/> with the node key (64-byte Ed25519 signature).</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _key.Sign(message);
    }

    /// <summary>The TLS certificate bound to this identity, created on first use.</summary>
    internal TlsCredential Tls
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            lock (_tlsLock)
            {
                return _tls ??= TlsCredential.Create(this);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _key.Dispose();
        lock (_tlsLock)
        {
            _tls?.Dispose();
            _tls = null;
        }
    }

    public override string ToString() => NodeId;

    private static void EnsurePrivateDirectory(string directory)
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
        if ((File.GetUnixFileMode(directory) & GroupOrOther) != 0)
        {
            // Our own state directory: narrow it (as the configuration store does) rather than refuse.
            File.SetUnixFileMode(directory, DirMode700);
        }
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    /// <summary>
    /// Holds an exclusive lock on <c>.node_key.lock</c> until disposed; waits up to 60 s for another process creating the
    /// key. Null when the key appeared meanwhile: processes starting together need not take the lock one by one to read it.
    /// </summary>
    private static FileStream? AcquireCreationLock(string directory, string keyPath)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }
        var path = Path.Combine(directory, "." + KeyFileName + ".lock");
        var deadline = Environment.TickCount64 + 60_000;
        while (true)
        {
            try
            {
                return new FileStream(path, options);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                Thread.Sleep(10); // another process is creating the key
                if (Exists(keyPath))
                {
                    return null;
                }
            }
        }
    }

    private static void WriteKeyFile(string path, ReadOnlySpan<byte> seed)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, $".{KeyFileName}.{Guid.NewGuid():N}.tmp");
        var text = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(seed) + "\n");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode600;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(text);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, FileMode600);
            }
            File.Move(temp, path, overwrite: false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(text);
            File.Delete(temp);
        }
    }

    private static byte[] ReadSeed(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            throw new NodeIdentityException($"the node key {path} is a symbolic link; refusing to follow it. Replace it with the key file itself (mode 0600).");
        }
        if (Directory.Exists(path))
        {
            throw new NodeIdentityException($"the node key {path} is a directory, not a key file.");
        }
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & GroupOrOther) != 0)
            {
                throw new NodeIdentityException(
                    $"the node key {path} has mode {FormatMode(mode)}: other users may have read it. It must be readable by its owner only; "
                    + $"if the key was not exposed, run 'chmod 600 {path}', otherwise delete it to create a new identity (the node id changes).");
            }
        }
        byte[] content;
        try
        {
            if (info.Length > 4096)
            {
                throw new NodeIdentityException($"the node key {path} is corrupt: {info.Length} bytes, expected 64 hex characters or 32 raw bytes.");
            }
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new NodeIdentityException($"the node key {path} could not be read: {ex.Message}", ex);
        }
        try
        {
            var text = content.AsSpan().Trim(" \t\r\n"u8);
            if (text.Length == 2 * Ed25519Key.SeedLength && IsHex(text))
            {
                Span<char> chars = stackalloc char[2 * Ed25519Key.SeedLength];
                for (var i = 0; i < chars.Length; i++)
                {
                    chars[i] = (char)text[i];
                }
                var seed = Convert.FromHexString(chars);
                chars.Clear();
                return seed;
            }
            if (content.Length == Ed25519Key.SeedLength)
            {
                return content.ToArray();
            }
            throw new NodeIdentityException(
                $"the node key {path} is corrupt: expected 64 hex characters (an Ed25519 seed) or 32 raw bytes, found {content.Length} bytes. "
                + "Restore it from a backup, or delete it to create a new identity (the node id changes).");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    private static bool IsHex(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if (!char.IsAsciiHexDigit((char)b))
            {
                return false;
            }
        }
        return true;
    }

    private static string FormatMode(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}

/// <summary>The node key could not be loaded or created; the message says why and what to do.</summary>
internal sealed class NodeIdentityException : Exception
{
    public NodeIdentityException(string message)
        : base(message)
    {
    }

    public NodeIdentityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
