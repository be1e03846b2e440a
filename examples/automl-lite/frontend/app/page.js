export const dynamic = "force-dynamic";

export default async function Home() {
  return <main>AutoML Lite: API at {process.env.NEXT_PUBLIC_API_URL}</main>;
}
