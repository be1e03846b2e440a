export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ ok: true, api: process.env.NEXT_PUBLIC_API_URL ?? null });
}
