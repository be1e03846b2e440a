// Rendered per request on Amplify's compute, so the API URL is the deployed one.
export const dynamic = "force-dynamic";

export default function Home() {
  return <main>AutoML Lite: API at {process.env.NEXT_PUBLIC_API_URL}</main>;
}
