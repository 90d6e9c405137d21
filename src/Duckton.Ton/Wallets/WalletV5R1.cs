using Duckton.Core.Crypto;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;

namespace Duckton.Ton.Wallets;

/// <summary>The global id a network stamps into wallet ids (replay protection between networks).</summary>
public static class TonNetworkId
{
    public const int Mainnet = -239;
    public const int Testnet = -3;
}

/// <summary>
/// The standard wallet v5r1 contract for one Ed25519 public key: its state init (the audited v5r1 code constant plus
/// initial data), its deterministic address, and signed external transfers. A transfer carries the wallet's seqno and
/// a valid-until time, so the same signed message can be sent any number of times and runs at most once, and never
/// after valid-until: that is what makes retried sends safe.
/// </summary>
public sealed class WalletV5R1
{
    /// <summary>Opcode of a signed external request ("sign").</summary>
    public const uint AuthSignedExternal = 0x7369676E;

    private const uint ActionSendMsg = 0x0EC3C86D;

    /// <summary>Most send actions per request (the contract's limit).</summary>
    public const int MaxMessages = 255;

    // The wallet-contract-v5 compiled code (as published by the TON wallet team and shipped by @ton/ton); its hash is
    // 20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f, which a test checks.
    private const string CodeHex =
        "b5ee9c7241021401000281000114ff00f4a413f4bcf2c80b01020120020d020148030402dcd020d749c120915b8f6320d70b1f2082106578746ebd21821073696e74bdb0925f03e082106578746eba8eb48020d72101d074d721fa4030fa44f828fa443058bd915be0ed44d0810141d721f4058307f40e6fa1319130e18040d721707fdb3ce03120d749810280b99130e070e2100f020120050c020120060902016e07080019adce76a2684020eb90eb85ffc00019af1df6a2684010eb90eb858fc00201480a0b0017b325fb51341c75c875c2c7e00011b262fb513435c280200019be5f0f6a2684080a0eb90fa02c0102f20e011e20d70b1f82107369676ebaf2e08a7f0f01e68ef0eda2edfb218308d722028308d723208020d721d31fd31fd31fed44d0d200d31f20d31fd3ffd70a000af90140ccf9109a28945f0adb31e1f2c087df02b35007b0f2d0845125baf2e0855036baf2e086f823bbf2d0882292f800de01a47fc8ca00cb1f01cf16c9ed542092f80fde70db3cd81003f6eda2edfb02f404216e926c218e4c0221d73930709421c700b38e2d01d72820761e436c20d749c008f2e09320d74ac002f2e09320d71d06c712c2005230b0f2d089d74cd7393001a4e86c128407bbf2e093d74ac000f2e093ed55e2d20001c000915be0ebd72c08142091709601d72c081c12e25210b1e30f20d74a111213009601fa4001fa44f828fa443058baf2e091ed44d0810141d718f405049d7fc8ca0040048307f453f2e08b8e14038307f45bf2e08c22d70a00216e01b3b0f2d090e2c85003cf1612f400c9ed54007230d72c08248e2d21f2e092d200ed44d0d2005113baf2d08f54503091319c01810140d721d70a00f2e08ee2c8ca0058cf16c9ed5493f2c08de20010935bdb31e1d74cd0b4d6c35e";

    private static readonly Lazy<Cell> s_code = new(() => BagOfCells.ParseSingle(Convert.FromHexString(CodeHex)));

    private readonly byte[] _publicKey;

    public WalletV5R1(ReadOnlySpan<byte> publicKey, int workchain = 0, int networkGlobalId = TonNetworkId.Mainnet, int subwallet = 0)
    {
        if (publicKey.Length != 32)
        {
            throw new ArgumentException($"an Ed25519 public key is 32 bytes, got {publicKey.Length}", nameof(publicKey));
        }
        if (subwallet is < 0 or > 0x7FFF)
        {
            throw new ArgumentOutOfRangeException(nameof(subwallet), "subwallet number is 15 bits");
        }
        _publicKey = publicKey.ToArray();
        Workchain = workchain;
        NetworkGlobalId = networkGlobalId;
        Subwallet = subwallet;
        WalletId = ComputeWalletId(networkGlobalId, workchain, subwallet);
        StateInit = new StateInit(Code, InitialData());
        Address = StateInit.Address(workchain);
    }

    public static Cell Code => s_code.Value;

    public int Workchain { get; }

    public int NetworkGlobalId { get; }

    public int Subwallet { get; }

    /// <summary>network global id XOR the client context (1 bit flag, workchain int8, version 0, subwallet uint15).</summary>
    public int WalletId { get; }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public StateInit StateInit { get; }

    public TonAddress Address { get; }

    public static int ComputeWalletId(int networkGlobalId, int workchain, int subwallet)
    {
        var context = unchecked((int)(0x80000000u | ((uint)(byte)(sbyte)workchain << 23) | (0u << 15) | (uint)subwallet));
        return networkGlobalId ^ context;
    }

    private Cell InitialData() => new CellBuilder()
        .StoreBit(true) // signature auth allowed
        .StoreUInt(0, 32) // seqno
        .StoreInt(WalletId, 32)
        .StoreBytes(_publicKey)
        .StoreBit(false) // no extensions
        .EndCell();

    /// <summary>
    /// The signed request body: "sign", wallet id, valid-until, seqno, the send actions, no extended actions, then the
    /// Ed25519 signature of the hash of everything before it. Each action's mode gets IgnoreErrors, as external requests
    /// must (otherwise one failing action would make the wallet refuse the whole request and keep the seqno).
    /// </summary>
    public Cell CreateSignedBody(Ed25519Key key, uint seqno, uint validUntil, IReadOnlyList<OutMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(messages);
        if (!key.PublicKey.SequenceEqual(_publicKey))
        {
            throw new ArgumentException("the signing key does not belong to this wallet", nameof(key));
        }
        if (messages.Count > MaxMessages)
        {
            throw new ArgumentException($"at most {MaxMessages} messages per request", nameof(messages));
        }
        var unsigned = new CellBuilder()
            .StoreUInt(AuthSignedExternal, 32)
            .StoreInt(WalletId, 32)
            .StoreUInt(validUntil, 32)
            .StoreUInt(seqno, 32)
            .StoreMaybeRef(messages.Count == 0 ? null : OutList(messages))
            .StoreBit(false);
        var unsignedCell = unsigned.EndCell();
        var signature = key.Sign(unsignedCell.Hash);
        return new CellBuilder().StoreCellInline(unsignedCell).StoreBytes(signature).EndCell();
    }

    /// <summary>The external message to send: the signed body, with the state init when seqno is 0 (first use deploys).</summary>
    public Cell CreateTransfer(Ed25519Key key, uint seqno, uint validUntil, IReadOnlyList<OutMessage> messages) =>
        TonMessages.ExternalIn(Address, CreateSignedBody(key, seqno, validUntil, messages), seqno == 0 ? StateInit : null);

    // OutList: a chain where each cell holds the previous list as its first reference, then one action.
    private static Cell OutList(IReadOnlyList<OutMessage> messages)
    {
        var list = Cell.Empty;
        foreach (var m in messages)
        {
            list = new CellBuilder()
                .StoreRef(list)
                .StoreUInt(ActionSendMsg, 32)
                .StoreUInt((byte)(m.Mode | SendMode.IgnoreErrors), 8)
                .StoreRef(TonMessages.InternalRelaxed(m))
                .EndCell();
        }
        return list;
    }
}
