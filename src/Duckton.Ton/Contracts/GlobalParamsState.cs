using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Rpc;

namespace Duckton.Ton.Contracts;

/// <summary>What <c>get_params</c> of GlobalParams returns: the parameters in force, who may change them and their version.</summary>
public sealed record GlobalParamsState(TonAddress Admin, TonAddress FeeRecipient, EcoParams Params, uint Version)
{
    /// <summary>Parses the <c>EcoParams</c> cell (the field order of <see cref="EcoParams.ToCell"/>).</summary>
    public static EcoParams ParseParams(Cell cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        var s = cell.BeginParse();
        ushort U16() => (ushort)s.LoadUInt(16);
        var p = new EcoParams(U16(), U16(), U16(), U16(), U16(), U16(), U16(), U16(), U16(), U16(), U16(), U16(),
            s.LoadCoins(), (uint)s.LoadUInt(32), (uint)s.LoadUInt(32));
        s.EndParse();
        return p;
    }

    /// <summary>Parses the stack of <c>get_params</c>: (admin, feeRecipient, params cell, paramsVersion).</summary>
    public static GlobalParamsState Parse(GetMethodResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.ExitCode != 0 || r.Stack.Count < 4)
        {
            throw new TonFormatException($"get_params failed (exit code {r.ExitCode}, {r.Stack.Count} stack items)");
        }
        var admin = r.AddressAt(0) ?? throw new TonFormatException("get_params: the admin is not an address");
        var recipient = r.AddressAt(1) ?? throw new TonFormatException("get_params: the fee recipient is not an address");
        return new GlobalParamsState(admin, recipient, ParseParams(r.CellAt(2)), (uint)r.Number(3));
    }
}
