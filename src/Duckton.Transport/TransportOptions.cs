using Duckton.Core.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Transport;

/// <summary>
/// How this node's transport trusts peers and bounds connections. Immutable; derive variants with <c>with</c>.
/// <see cref="FromConfig"/> maps the <c>[protocol]</c>, <c>[network]</c>, <c>[identity]</c> and <c>[security]</c> configuration sections.
/// </summary>
/// <remarks>
/// <para>Protection by <see cref="Pinning"/> mode — every mode always requires TLS 1.3, a client certificate, and a valid Ed25519
/// binding in each certificate, so a peer is always authenticated as the holder of the key behind its node id:</para>
/// <list type="bullet">
/// <item><see cref="PinningMode.Tofu"/>: any bound peer is accepted; on outbound connections the first node id seen at an address
/// is remembered in the known-peers file and a later different id at that address is refused (<see cref="RejectReason.PinMismatch"/>).
/// Protects against a peer changing behind an address, not against a first contact with an impostor — pass an expected node id
/// for that.</item>
/// <item><see cref="PinningMode.Allowlist"/>: only node ids in <see cref="Allowlist"/> are accepted, both directions. Full protection.</item>
/// </list>
/// </remarks>
public sealed record TransportOptions
{
    /// <summary>Default options: TOFU pinning, 16 MiB frames, 10 s handshake.</summary>
    public static TransportOptions Default { get; } = new();

    /// <summary>How peer identities are trusted. Default <see cref="PinningMode.Tofu"/>.</summary>
    public PinningMode Pinning { get; init; } = NodeConfig.Defaults.Identity.PinningMode;

    /// <summary>Node ids accepted when <see cref="Pinning"/> is <see cref="PinningMode.Allowlist"/>. Default empty.</summary>
    public IReadOnlyCollection<string> Allowlist { get; init; } = [];

    /// <summary>
    /// TOFU pin file (<c>address node_id</c> lines). Default null: <c>known_peers</c> in the identity's configuration directory, or an
    /// in-memory table for an ephemeral identity.
    /// </summary>
    public string? KnownPeersPath { get; init; }

    /// <summary>Largest frame payload received (and sent), in bytes. Default 16 MiB; 4 KiB – 1 GiB.</summary>
    public int MaxFrameBytes { get; init; } = FrameFormat.DefaultMaxFrameBytes;

    /// <summary>Bound on connect + TLS + Hello exchange. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Software version announced in the Hello (informative). Default "0.1.0".</summary>
    public string SoftwareVersion { get; init; } = "0.1.0";

    /// <summary>Protocol version this node speaks, <c>major.minor.patch</c>. Default "1.1.0".</summary>
    public string ProtocolVersion { get; init; } = TransportProtocol.Version;

    /// <summary>Oldest peer protocol version accepted; null = <c>&lt;major&gt;.0.0</c> of <see cref="ProtocolVersion"/>.</summary>
    public string? MinSupportedVersion { get; init; }

    /// <summary>Listen address announced in the Hello; null = none (a listener announces its bound endpoint).</summary>
    public string? AdvertisedAddress { get; init; }

    /// <summary>Clock for timeouts and idle expiry. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Local deny-list: a peer whose node id this returns true for is refused (<see cref="RejectReason.Blocked"/>). Default none.</summary>
    public Func<string, bool>? IsBlocked { get; init; }

    /// <summary>Most concurrently open inbound connections of a listener; past it, new peers get <see cref="RejectReason.Busy"/>. Default 1024.</summary>
    public int MaxInboundConnections { get; init; } = 1024;

    /// <summary>Most inbound handshakes in flight at once; further connections wait in the accept backlog. Default 512.</summary>
    public int MaxConcurrentHandshakes { get; init; } = 512;

    /// <summary>
    /// How long a <see cref="ConnectionPool"/> keeps an idle connection, and how long a host keeps an inbound connection that
    /// carries no frame and no job. Default 30 s (<c>network.idle_timeout_ms</c>).
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = NodeConfig.Defaults.Network.IdleTimeout;

    /// <summary>Most idle outbound connections a <see cref="ConnectionPool"/> keeps over all peers; a connection returned past it
    /// is closed. Default 1024 (<c>limits.connection_pool_size</c>).</summary>
    public int MaxPooledConnections { get; init; } = NodeConfig.Defaults.Limits.ConnectionPoolSize;

    /// <summary>
    /// Bound on an inbound TLS + Hello exchange, so a socket that sends nothing (or trickles) gives its handshake slot back
    /// fast. Null = <see cref="HandshakeTimeout"/>. <c>network.handshake_timeout_ms</c>.
    /// </summary>
    public TimeSpan? InboundHandshakeTimeout { get; init; }

    /// <summary>Most inbound connections one peer identity holds open at once; past it that peer gets <see cref="RejectReason.Busy"/>.
    /// Default 128 (<c>network.max_connections_per_peer</c>).</summary>
    public int MaxConnectionsPerPeer { get; init; } = NodeConfig.Defaults.Network.MaxConnectionsPerPeer;

    /// <summary>Most inbound connections one source address (IPv6: its /64) holds open at once. Default 256
    /// (<c>network.max_connections_per_address</c>).</summary>
    public int MaxConnectionsPerAddress { get; init; } = NodeConfig.Defaults.Network.MaxConnectionsPerAddress;

    /// <summary>Most inbound handshakes in flight from one source address (IPv6: its /64); a further socket from it is closed
    /// at once, so one address cannot occupy the <see cref="MaxConcurrentHandshakes"/> slots. Default 64
    /// (<c>network.max_handshakes_per_address</c>).</summary>
    public int MaxHandshakesPerAddress { get; init; } = NodeConfig.Defaults.Network.MaxHandshakesPerAddress;

    /// <summary>
    /// Memory for large frames being received, shared by every connection built with these options (and their <c>with</c>
    /// copies). Default: <c>network.frame_memory_bytes</c> in total, <c>network.frame_memory_per_peer_bytes</c> per peer.
    /// </summary>
    public FrameMemoryBudget FrameMemory { get; init; } = new(NodeConfig.Defaults.Network.FrameMemoryBytes,
        NodeConfig.Defaults.Network.FrameMemoryPerPeerBytes, NodeConfig.Defaults.Network.FrameMemoryWait);

    internal TimeSpan EffectiveInboundHandshakeTimeout => InboundHandshakeTimeout ?? HandshakeTimeout;

    /// <summary>Diagnostics (handshake failures, handler exceptions). Default none.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Options from a node's configuration: pinning and allowlist (<c>security.mode = private</c> forces allowlist), advertised
    /// address, connect and idle timeouts, protocol versions, and the resource budgets (<see cref="WithBudgets"/>).</summary>
    public static TransportOptions FromConfig(NodeConfig config, string softwareVersion = "0.1.0")
    {
        ArgumentNullException.ThrowIfNull(config);
        return new TransportOptions
        {
            Pinning = config.Security.Mode == SecurityMode.Private ? PinningMode.Allowlist : config.Identity.PinningMode,
            Allowlist = config.Identity.Allowlist,
            HandshakeTimeout = config.Network.ConnectTimeout,
            AdvertisedAddress = string.IsNullOrEmpty(config.Network.AdvertisedAddr) ? null : config.Network.AdvertisedAddr,
            ProtocolVersion = config.Protocol.Version,
            MinSupportedVersion = config.Protocol.MinSupportedVersion,
            SoftwareVersion = softwareVersion,
            MaxPooledConnections = config.Limits.ConnectionPoolSize,
        }.WithBudgets(config.Network);
    }

    /// <summary>These options with the <c>[network]</c> budgets: idle and inbound handshake timeouts, connection and handshake
    /// limits (total, per peer, per address), frame size and a new frame memory budget.</summary>
    public TransportOptions WithBudgets(NetworkConfig network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return this with
        {
            IdleTimeout = network.IdleTimeout,
            InboundHandshakeTimeout = network.HandshakeTimeout,
            MaxInboundConnections = network.MaxInboundConnections,
            MaxConnectionsPerPeer = network.MaxConnectionsPerPeer,
            MaxConnectionsPerAddress = network.MaxConnectionsPerAddress,
            MaxConcurrentHandshakes = network.MaxHandshakes,
            MaxHandshakesPerAddress = network.MaxHandshakesPerAddress,
            MaxFrameBytes = (int)Math.Clamp(network.MaxFrameBytes, FrameFormat.MinMaxFrameBytes, FrameFormat.MaxMaxFrameBytes),
            FrameMemory = new FrameMemoryBudget(network.FrameMemoryBytes, network.FrameMemoryPerPeerBytes, network.FrameMemoryWait, Time),
        };
    }

    internal ProtocolVersion Version => Duckton.Transport.ProtocolVersion.Parse(ProtocolVersion, nameof(ProtocolVersion));

    internal ProtocolVersion MinVersion => MinSupportedVersion is null
        ? new ProtocolVersion(Version.Major, 0, 0)
        : Duckton.Transport.ProtocolVersion.Parse(MinSupportedVersion, nameof(MinSupportedVersion));

    internal string EffectiveMinSupportedVersion => MinVersion.ToString();

    /// <summary>Checks every value; the message names the option and the fix.</summary>
    /// <exception cref="ArgumentException">An option is out of range or malformed.</exception>
    public void Validate()
    {
        if (MaxFrameBytes is < FrameFormat.MinMaxFrameBytes or > FrameFormat.MaxMaxFrameBytes)
        {
            throw new ArgumentException($"MaxFrameBytes must be between {FrameFormat.MinMaxFrameBytes} and {FrameFormat.MaxMaxFrameBytes}, got {MaxFrameBytes}");
        }
        if (HandshakeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"HandshakeTimeout must be positive, got {HandshakeTimeout}");
        }
        if (MaxPooledConnections < 0)
        {
            throw new ArgumentException($"MaxPooledConnections must not be negative, got {MaxPooledConnections}");
        }
        if (IdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"IdleTimeout must be positive, got {IdleTimeout}");
        }
        if (MaxInboundConnections < 1 || MaxConcurrentHandshakes < 1 || MaxConnectionsPerPeer < 1 || MaxConnectionsPerAddress < 1 || MaxHandshakesPerAddress < 1)
        {
            throw new ArgumentException("MaxInboundConnections, MaxConcurrentHandshakes, MaxConnectionsPerPeer, MaxConnectionsPerAddress and MaxHandshakesPerAddress must be at least 1");
        }
        if (InboundHandshakeTimeout is { } inbound && inbound <= TimeSpan.Zero)
        {
            throw new ArgumentException($"InboundHandshakeTimeout must be positive, got {inbound}");
        }
        ArgumentNullException.ThrowIfNull(FrameMemory);
        ArgumentNullException.ThrowIfNull(Allowlist);
        ArgumentNullException.ThrowIfNull(Time);
        ArgumentNullException.ThrowIfNull(Logger);
        ArgumentNullException.ThrowIfNull(SoftwareVersion);
        var version = Version;
        var min = MinVersion;
        if (min.Major != version.Major || min > version)
        {
            throw new ArgumentException($"MinSupportedVersion {min} must be of major {version.Major} and not above ProtocolVersion {version}");
        }
        if (System.Text.Encoding.UTF8.GetByteCount(SoftwareVersion) > HandshakeCodec.MaxSoftwareVersion)
        {
            throw new ArgumentException($"SoftwareVersion is longer than {HandshakeCodec.MaxSoftwareVersion} bytes");
        }
        foreach (var id in Allowlist)
        {
            if (!NodeIdentity.IsValidNodeId(id))
            {
                throw new ArgumentException($"Allowlist entry '{id}' is not a node id (b3:<64 lower-case hex>)");
            }
        }
        if (Pinning == PinningMode.Allowlist && Allowlist.Count == 0)
        {
            throw new ArgumentException("Pinning = Allowlist with an empty Allowlist would refuse every peer; list the node ids to accept");
        }
        if (AdvertisedAddress is not null)
        {
            PeerAddress.Parse(AdvertisedAddress);
        }
    }
}

/// <summary>Fixed names and versions of the wire protocol (what <c>p2p_info()</c> reports).</summary>
public static class TransportProtocol
{
    /// <summary>Protocol name carried in every Hello.</summary>
    public const string Name = "duckdb-p2p";

    /// <summary>Protocol version of this implementation.</summary>
    public const string Version = "1.1.0";

    /// <summary>Oldest protocol version this implementation accepts by default.</summary>
    public const string MinSupportedVersion = "1.0.0";

    /// <summary>TLS ALPN identifier: names the framing and handshake generation (frame version 1 + Hello), not the protocol major.</summary>
    public const string Alpn = "duckdb-p2p/1";

    /// <summary>TLS server name (SNI) every client sends; certificates carry it as their DNS SAN.</summary>
    public const string TlsServerName = "duckdb-p2p";
}
