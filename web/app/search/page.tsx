import type { Metadata } from 'next';
import { SearchPage } from './search-page.tsx';

export const metadata: Metadata = { title: 'Fleet — search' };

export default function Search() {
  return (
    <>
      <h1>Search</h1>
      <SearchPage />
    </>
  );
}
