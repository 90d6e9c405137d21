using System.Numerics;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;

namespace Duckton.Ton.Rpc;

/// <summary>Account state as getAddressInformation reports it.</summary>
public sealed record AccountInfo(Coins Balance, string State, Cell? Code, Cell? Data)
{
    public bool IsActive => State == "active";
}

/// <summary>One TVM stack value returned by a get method (or passed to one).</summary>
public abstract record TvmValue
{
    public sealed record Number(BigInteger Value) : TvmValue;

    public sealed record CellValue(Cell Cell) : TvmValue;

    public sealed record Null : TvmValue;
}

/// <summary>The result of runGetMethod: the TVM exit code and the stack, first item first.</summary>
public sealed record GetMethodResult(int ExitCode, IReadOnlyList<TvmValue> Stack)
{
    public BigInteger Number(int index) => Stack[index] is TvmValue.Number n
        ? n.Value
        : throw new TonFormatException($"stack item {index} is {Stack[index].GetType().Name}, not a number");

    public Cell CellAt(int index) => Stack[index] is TvmValue.CellValue c
        ? c.Cell
        : throw new TonFormatException($"stack item {index} is {Stack[index].GetType().Name}, not a cell");

    public TonAddress? AddressAt(int index) => CellAt(index).BeginParse().LoadAddress();
}

/// <summary>A message as a transaction lists it.</summary>
/// <param name="Source">Sender, null for an external message.</param>
/// <param name="Destination">Recipient, null for an external outbound message.</param>
/// <param name="Value">Attached value.</param>
/// <param name="Hash">Message cell hash (hex, lower case) when the API reports it.</param>
/// <param name="Body">Message body when the API reports it.</param>
/// <param name="ForwardFee">Forwarding fee the message carries (paid by the sender on top of the value).</param>
/// <param name="Bounced">The message is a bounce of an earlier one.</param>
public sealed record TonMessageInfo(TonAddress? Source, TonAddress? Destination, Coins Value, string? Hash, Cell? Body, Coins ForwardFee = default,
    bool Bounced = false);

/// <summary>Phase results of a transaction, when the API reports them.</summary>
/// <param name="ComputeSkipped">The compute phase did not run (e.g. no state, no gas).</param>
/// <param name="ComputeExitCode">TVM exit code (0 and 1 mean success).</param>
/// <param name="ActionResultCode">Action phase result (0 = all actions done).</param>
/// <param name="Aborted">The transaction was aborted (state changes reverted).</param>
public sealed record TransactionOutcome(bool ComputeSkipped, int? ComputeExitCode, int? ActionResultCode, bool Aborted)
{
    public bool Succeeded => !Aborted && !ComputeSkipped && ComputeExitCode is 0 or 1 && ActionResultCode is null or 0;
}

/// <summary>One transaction of an account.</summary>
public sealed record TonTransaction(
    ulong Lt,
    string Hash,
    long Utime,
    Coins TotalFees,
    TonMessageInfo? InMessage,
    IReadOnlyList<TonMessageInfo> OutMessages,
    TransactionOutcome? Outcome);
