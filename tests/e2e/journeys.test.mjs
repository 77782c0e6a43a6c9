// The forum as members and moderators meet it, in Debian's Chromium. Every page a
// journey visits passes axe-core (WCAG 2.1 A/AA), the Nu HTML checker, and loads
// nothing from another origin. Screenshots land in target/e2e-screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateSync, crc32 } from 'node:zlib';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { Forum, HttpMember, SCREENSHOTS } from './harness.mjs';

let forum;
let seeder;
let longTopic;
let newcomer; // journey 2's browser, reused by journeys 6 and 7
let octocat; // journey 3's browser, reused by journeys 4 and 5

/** A journey's key page on a 375px phone, with the same cookies: the same checks as on
 * the desktop (axe in both schemes, no sideways scrolling, the Nu checker, no other
 * origin), with its screenshots. */
async function phoneShot(context, path, name) {
  const phone = await forum.browserContext({ phone: true });
  await phone.context.addCookies(await context.cookies());
  await phone.page.goto(forum.origin + path);
  await forum.check(phone.page, `${name}-phone`);
  await phone.context.close();
}

before(async () => {
  forum = await Forum.start();
  seeder = await new HttpMember(forum).register('seeder');
  longTopic = await seeder.request('/c/1/new', { title: 'A long conversation', body: 'Post number 1' });
  const id = longTopic.split('/')[2];
  for (let n = 2; n <= 24; n++) await seeder.request(`/t/${id}/reply`, { body: `Post number ${n}` });
});

after(async () => {
  forum?.writeGallery();
  await forum?.stop();
  // Keep-alive sockets must not hold the run open once the journeys are done.
  setTimeout(() => process.exit(), 500).unref();
});

test('1. a visitor browses categories, a topic and its second page, and follows a permalink', async () => {
  const { context, page } = await forum.browserContext();
  await page.goto(forum.origin + '/');
  await forum.check(page, 'j1-home');
  assert.equal(await page.getByRole('region', { name: 'Latest' }).getByRole('link', { name: 'A long conversation' }).count(), 1);
  await page.getByRole('region', { name: 'Categories' }).getByRole('link', { name: 'General' }).click();
  await forum.check(page, 'j1-category');
  await page.getByRole('link', { name: 'A long conversation' }).click();
  assert.equal(await page.locator('article.post').count(), 20);
  await forum.check(page, 'j1-topic');
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: '2' }).click();
  assert.match(page.url(), /\?page=2$/);
  assert.equal(await page.locator('article.post').count(), 4);
  await forum.check(page, 'j1-topic-page-2');
  await page.locator('#post-23 a.permalink').click();
  await page.waitForURL(/\?page=2#post-23$/);
  assert.match(await page.locator('#post-23 .post-body').innerText(), /Post number 23/);
  await phoneShot(context, longTopic, 'j1-topic');
  await phoneShot(context, '/', 'j1-home');
  await phoneShot(context, '/c/1/general', 'j1-category');
  await context.close();
});

test('2. a visitor registers, confirms the address, writes Markdown, replies, edits and likes', async () => {
  const { context, page } = await forum.browserContext();
  newcomer = { context, page };
  await page.goto(forum.origin + '/register');
  await forum.check(page, 'j2-register');
  await page.getByLabel('Username').fill('newcomer');
  await page.getByLabel('E-mail address').fill('newcomer@example.org');
  await page.getByLabel('Password').fill('a-long-enough-password');
  await page.getByLabel('I am at least 13 years old').check();
  await page.getByLabel('I have read and accept the privacy policy').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(forum.origin + '/');
  assert.equal(await page.locator('.signed-in-as strong').innerText(), 'newcomer');

  const mail = forum.mailTo('newcomer@example.org');
  const link = /(http\S+\/account\/confirm-email\?token=\S+)/.exec(mail.body)[1];
  await page.goto(link);
  await forum.check(page, 'j2-confirm');
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await page.waitForURL(/\/account\?done=email-confirmed/);
  assert.match(await page.locator('dd.email').innerText(), /\(verified\)/);
  await forum.check(page, 'j2-account');

  await page.goto(forum.origin + '/c/1/general');
  await page.getByRole('link', { name: 'New topic' }).click();
  await forum.check(page, 'j2-new-topic');
  await page.getByLabel('Title').fill('Markdown in the browser');
  await page.getByLabel('Post (Markdown)').fill('This is **bold**, a [link](https://example.org) and code:\n\n```\nfn main() {}\n```');
  await page.getByRole('button', { name: 'Create topic' }).click();
  await page.waitForURL(/\/t\/\d+\/markdown-in-the-browser$/);
  const body = page.locator('#post-1 .post-body');
  assert.equal(await body.locator('strong').innerText(), 'bold');
  assert.equal(await body.locator('a').getAttribute('rel'), 'nofollow ugc noopener');
  assert.equal(await body.locator('pre code').innerText(), 'fn main() {}\n');
  await forum.check(page, 'j2-topic');

  await page.getByLabel('Your reply (Markdown)').fill('A reply from the browser.');
  await page.getByRole('button', { name: 'Post reply' }).click();
  await page.waitForURL(/#post-2$/);
  assert.match(await page.locator('#post-2 .post-body').innerText(), /A reply from the browser/);

  await page.locator('#post-1').getByRole('link', { name: 'Edit' }).click();
  await forum.check(page, 'j2-edit');
  await page.getByLabel('Post (Markdown)').fill('This is **bold**, edited.');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(/#post-1$/);
  assert.equal(await page.locator('#post-1 .edited').innerText(), 'edited');

  await page.goto(forum.origin + longTopic);
  await page.locator('#post-1').getByRole('button', { name: 'Like' }).click();
  await page.waitForURL(/#post-1$/);
  assert.equal(await page.locator('#post-1 .likes').innerText(), '1 like');
  assert.equal(await page.locator('#post-1').getByRole('button', { name: 'Unlike' }).count(), 1);
  await forum.check(page, 'j2-liked');
  await phoneShot(context, longTopic, 'j2-topic');
});

test('3. a member signs in with GitHub and sees the stored picture and names', async () => {
  const { context, page } = await forum.browserContext();
  octocat = { context, page };
  await page.goto(forum.origin + '/login');
  await forum.check(page, 'j3-login');
  await page.getByRole('button', { name: 'Sign in with GitHub' }).click();
  await page.getByRole('link', { name: 'octocat (Mona Lisa Octocat)' }).click();
  await page.waitForURL(forum.origin + '/auth/github/finish');
  await forum.check(page, 'j3-finish');
  await page.getByLabel('I am at least 13 years old').check();
  await page.getByLabel('I have read and accept the privacy policy').check();
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.goto(forum.origin + '/account');
  await forum.check(page, 'j3-account');
  const picture = page.locator('img.avatar');
  assert.match(await picture.getAttribute('src'), /^\/avatars\/\d+$/);
  assert.ok(await picture.evaluate((img) => img.complete && img.naturalWidth > 0), 'the picture is drawn');
  assert.equal(await page.locator('dd.username').innerText(), 'octocat');
  assert.equal(await page.locator('dd.first-name').innerText(), 'Mona Lisa');
  assert.equal(await page.locator('dd.last-name').innerText(), 'Octocat');
  assert.match(await page.locator('dd.email').innerText(), /octocat@users\.example\.com \(verified\)/);
  await phoneShot(context, '/account', 'j3-account');
});

test('4. on Your data: a new first name, a new address, the export, another session signed out', async () => {
  const { context, page } = octocat;
  await page.goto(forum.origin + '/account');
  await page.getByLabel('First name (leave empty to remove)').fill('Mona');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.waitForURL(/done=profile/);
  assert.equal(await page.locator('dd.first-name').innerText(), 'Mona');

  // Changing the address of a GitHub-only account asks for a fresh GitHub confirmation.
  await page.goto(forum.origin + '/account/delete');
  await page.getByRole('button', { name: 'Confirm with GitHub' }).click();
  await page.getByRole('link', { name: 'octocat (Mona Lisa Octocat)' }).click();
  await page.waitForURL(forum.origin + '/account/delete');
  await page.goto(forum.origin + '/account');
  await page.getByLabel('New e-mail address').fill('mona@new.example');
  await page.getByRole('button', { name: 'Change e-mail address' }).click();
  await page.waitForURL(/done=email-sent/);
  const link = /(http\S+\/account\/change-email\?token=\S+)/.exec(forum.mailTo('mona@new.example').body)[1];
  await page.goto(link);
  await page.getByRole('button', { name: 'Use this address' }).click();
  await page.waitForURL(/done=email-changed/);
  assert.match(await page.locator('dd.email').innerText(), /mona@new\.example \(verified\)/);

  await page.goto(forum.origin + '/c/1/new');
  await page.getByLabel('Title').fill('Octocat was here');
  await page.getByLabel('Post (Markdown)').fill('A post to export and outlive me.');
  await page.getByRole('button', { name: 'Create topic' }).click();
  await page.waitForURL(/octocat-was-here/);

  await page.goto(forum.origin + '/account');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'download all of it' }).click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  const post = exported.posts.find((p) => p.markdown === 'A post to export and outlive me.');
  assert.ok(post, 'the post is in the export');
  assert.equal(post.posted_from_ip, '127.0.0.1');

  const laptop = await forum.browserContext();
  await laptop.page.goto(forum.origin + '/login');
  await laptop.page.getByRole('button', { name: 'Sign in with GitHub' }).click();
  await laptop.page.getByRole('link', { name: 'octocat (Mona Lisa Octocat)' }).click();
  await laptop.page.waitForURL(forum.origin + '/');
  assert.equal(await laptop.page.locator('.signed-in-as strong').innerText(), 'octocat');
  await page.goto(forum.origin + '/account');
  assert.equal(await page.locator('tr.session').count(), 2);
  await forum.check(page, 'j4-account-two-sessions');
  await page.locator('tr.session', { hasNotText: 'this browser' }).getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/done=session-ended/);
  await laptop.page.reload();
  assert.equal(await laptop.page.locator('.signed-in-as').count(), 0, 'the other session is signed out');
  await laptop.context.close();
  await phoneShot(context, '/account', 'j4-account');
});

test('5. the member deletes the account; the topic stays, by Anonymous; GitHub sign-in starts afresh', async () => {
  const { context, page } = octocat;
  await page.goto(forum.origin + '/account/delete');
  // Journey 4 confirmed with GitHub minutes ago (to change the address): that still counts.
  assert.equal(await page.getByRole('button', { name: 'Confirm with GitHub' }).count(), 0);
  await forum.check(page, 'j5-delete-confirmed');
  await page.getByLabel('Type your username').fill('octocat');
  await page.getByRole('button', { name: 'Delete my account for good' }).click();
  await page.waitForURL(forum.origin + '/account/deleted');
  await forum.check(page, 'j5-deleted');

  await page.goto(forum.origin + '/c/1/general');
  await page.getByRole('link', { name: 'Octocat was here' }).click();
  assert.equal(await page.locator('#post-1 .author').innerText(), 'Anonymous');
  await forum.check(page, 'j5-anonymous-topic');
  await phoneShot(context, new URL(page.url()).pathname, 'j5-anonymous-topic');

  await page.goto(forum.origin + '/login');
  await page.getByRole('button', { name: 'Sign in with GitHub' }).click();
  await page.getByRole('link', { name: 'octocat (Mona Lisa Octocat)' }).click();
  await page.waitForURL(forum.origin + '/auth/github/finish');
  await page.getByLabel('I am at least 13 years old').check();
  await page.getByLabel('I have read and accept the privacy policy').check();
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.goto(forum.origin + '/account');
  assert.equal(await page.locator('.post-ips').count(), 0, 'a new account with no posts');
  assert.match(await page.locator('dd.email').innerText(), /octocat@users\.example\.com/);
});

test('6. a member flags a post; a moderator hides it; the member sees the placeholder; the audit log shows it', async () => {
  const { page } = newcomer;
  await page.goto(forum.origin + longTopic + '?page=2');
  const post = page.locator('#post-22');
  await post.getByRole('link', { name: 'Flag' }).click();
  await page.waitForURL(/\/flag$/);
  await forum.check(page, 'j6-flag-page');
  await page.getByLabel('Why?').selectOption('spam');
  await page.getByRole('button', { name: 'Flag this post' }).click();
  await page.waitForURL(/#post-22$/);

  await new HttpMember(forum).register('boss');
  forum.cli('admin', 'grant', 'boss', 'admin');
  const boss = await forum.browserContext();
  await boss.page.goto(forum.origin + '/login');
  await boss.page.getByLabel('Username or e-mail address').fill('boss');
  await boss.page.getByLabel('Password').fill('boss-long-password');
  await boss.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await boss.page.getByRole('link', { name: 'Moderation' }).click();
  await forum.check(boss.page, 'j6-dashboard');
  await boss.page.getByRole('link', { name: 'Flags' }).first().click();
  await forum.check(boss.page, 'j6-flags');
  const flagged = boss.page.locator('section.flagged').first();
  await flagged.getByLabel('Reason').fill('advertising');
  await flagged.getByRole('button', { name: 'Hide the post' }).click();
  await boss.page.waitForURL(/\/admin\/flags\?done=hide&post=\d+$/);
  assert.match(await boss.page.locator('.flash').innerText(), /^Flags on “.+” #22 resolved: the post is hidden\.$/);
  await forum.check(boss.page, 'j6-flags-decided');

  await page.goto(forum.origin + longTopic + '?page=2');
  assert.match(await page.locator('#post-22 .placeholder').innerText(), /hidden by a moderator/);
  await forum.check(page, 'j6-placeholder');
  await boss.page.goto(forum.origin + '/admin/audit');
  assert.ok((await boss.page.locator('.audit-entry .action').allInnerTexts()).includes('hide post'));
  await forum.check(boss.page, 'j6-audit');
  await boss.page.getByRole('link', { name: 'Review queue' }).click();
  await forum.check(boss.page, 'j6-review');
  await boss.page.goto(forum.origin + '/admin/members?q=newcomer');
  await boss.page.getByRole('link', { name: 'newcomer' }).click();
  await forum.check(boss.page, 'j6-member');
  await phoneShot(boss.context, new URL(boss.page.url()).pathname, 'j6-member');
  await phoneShot(boss.context, '/admin/flags', 'j6-flags');
  await boss.context.close();
});

test('7. bad input re-renders the form with a message and the typed text kept', async () => {
  const { context, page } = newcomer;
  await page.goto(forum.origin + '/c/1/new');
  await page.getByLabel('Title').fill('   ');
  await page.getByLabel('Post (Markdown)').fill('Words I do not want to lose.');
  await page.getByRole('button', { name: 'Create topic' }).click();
  assert.match(await page.locator('[role=alert]').innerText(), /Give your topic a title/);
  assert.equal(await page.getByLabel('Post (Markdown)').inputValue(), 'Words I do not want to lose.');
  await forum.check(page, 'j7-empty-title');
  // Preview: the post as it will look, above the form, nothing posted.
  await page.getByLabel('Title').fill('A previewed topic');
  await page.getByLabel('Post (Markdown)').fill('Some **bold** words\n\n- a list');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator('.preview .post-body strong').innerText(), 'bold');
  assert.equal(await page.getByLabel('Title').inputValue(), 'A previewed topic');
  await forum.check(page, 'j7-preview');
  await page.screenshot({ path: join(SCREENSHOTS, 'j7-preview.png'), fullPage: true });

  const stranger = await forum.browserContext();
  await stranger.page.goto(forum.origin + '/register');
  await stranger.page.getByLabel('Username').fill('newcomer');
  await stranger.page.getByLabel('E-mail address').fill('someone-else@example.org');
  await stranger.page.getByLabel('Password').fill('another-long-password');
  await stranger.page.getByLabel('I am at least 13 years old').check();
  await stranger.page.getByLabel('I have read and accept the privacy policy').check();
  await stranger.page.getByRole('button', { name: 'Create account' }).click();
  assert.match(await stranger.page.locator('[role=alert]').innerText(), /already taken/);
  assert.equal(await stranger.page.getByLabel('Username').inputValue(), 'newcomer');
  assert.equal(await stranger.page.getByLabel('E-mail address').inputValue(), 'someone-else@example.org');
  await forum.check(stranger.page, 'j7-duplicate-username');
  await phoneShot(stranger.context, '/register', 'j7-register');
  await stranger.context.close();
  await context.close();
});

test('8. a visitor searches from the header, narrows to titles, and opens a result at its post', async () => {
  const { context, page } = await forum.browserContext();
  await page.goto(forum.origin + '/');
  await page.getByRole('search').first().getByLabel('Search').fill('conversation');
  await page.getByRole('search').first().getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/\/search\?q=conversation/);
  assert.equal(await page.locator('.search-results .result-title').first().innerText(), 'A long conversation');
  await forum.check(page, 'j8-search');
  await page.goto(forum.origin + '/search?q=%22post+number+23%22');
  assert.equal(await page.locator('.search-results li').count(), 1);
  assert.equal((await page.locator('.search-results mark').allInnerTexts()).join(' '), 'Post number 23');
  await forum.check(page, 'j8-search-phrase');
  await page.locator('.search-results .result-title').click();
  await page.waitForURL(/\?page=2#post-23$/);
  assert.match(await page.locator('#post-23 .post-body').innerText(), /Post number 23/);
  await page.goto(forum.origin + '/search?q=markdown');
  await page.getByText('Filters').click();
  await page.getByLabel('Topic titles only').check();
  await page.getByRole('main').getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/titles=on/);
  assert.deepEqual(await page.locator('.search-results .result-title').allInnerTexts(), ['Markdown in the browser']);
  await forum.check(page, 'j8-search-titles');
  await phoneShot(context, '/search?q=post+number', 'j8-search');
  await context.close();
});

test('9. a member searches, opens a result, and later lands on the first reply they have not read', async () => {
  await new HttpMember(forum).register('reader');
  const { context, page } = await forum.browserContext();
  await page.goto(forum.origin + '/login');
  await page.getByLabel('Username or e-mail address').fill('reader');
  await page.getByLabel('Password').fill('reader-long-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(forum.origin + '/');
  await page.getByRole('search').first().getByLabel('Search').fill('"post number 23"');
  await page.getByRole('search').first().getByRole('button', { name: 'Search' }).click();
  await page.locator('.search-results .result-title').click();
  await page.waitForURL(/\?page=2#post-23$/);

  // Later, two replies arrive while the member is away.
  const id = longTopic.split('/')[2];
  for (const n of [25, 26]) await seeder.request(`/t/${id}/reply`, { body: `Post number ${n}` });

  await page.goto(forum.origin + '/');
  const row = page.getByRole('region', { name: 'Latest' }).getByRole('row').filter({ hasText: 'A long conversation' });
  assert.equal(await row.locator('.new-posts').innerText(), '2 new');
  await forum.check(page, 'j9-home-unread');
  await page.getByRole('link', { name: 'Unread' }).click();
  await page.waitForURL(/\/unread$/);
  assert.deepEqual(await page.locator('table.latest tbody td:first-child > a:first-child').allInnerTexts(), ['A long conversation']);
  await forum.check(page, 'j9-unread');
  await phoneShot(context, '/unread', 'j9-unread');
  await page.getByRole('link', { name: 'A long conversation' }).click();
  await page.waitForURL(/\?page=2#post-25$/);
  assert.equal(await page.locator('article.first-unread').getAttribute('id'), 'post-25');
  assert.equal(await page.locator('#post-25 .unread-marker').innerText(), 'New since you last read');
  await forum.check(page, 'j9-first-unread');

  await page.goto(forum.origin + '/unread');
  assert.match(await page.locator('.empty-list').innerText(), /^Nothing unread/);
  await page.getByRole('button', { name: 'Mark everything read' }).click();
  await page.waitForURL(/\/unread$/);
  await context.close();
});

test('10. bram mentions and quotes ada; she sees the count, opens the notification, lands on the post and replies; bram gets the e-mail and unsubscribes with one click', async () => {
  const ada = await new HttpMember(forum).register('ada');
  const topic = await ada.request('/c/1/new', { title: 'Soup of the day', body: 'Leek and **potato**.' });
  const id = topic.split('/')[2];
  const bram = await new HttpMember(forum).register('bram');
  // Bram wants replies and mentions by e-mail as they happen (not only once he has been
  // away an hour).
  await bram.request('/account/notifications', {
    watch_own: 'yes', reply: 'each', topic: 'away', mention: 'each', quote: 'away', like: 'off', moderation: 'each',
  });
  await bram.request(`/t/${id}/reply`, { body: `[quote="ada, post:1, topic:${id}"]\nLeek and **potato**.\n[/quote]\n\nAgreed, @ada!` });

  const { context, page } = await forum.browserContext();
  await page.goto(forum.origin + '/login');
  await page.getByLabel('Username or e-mail address').fill('ada');
  await page.getByLabel('Password').fill('ada-long-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(forum.origin + '/');
  assert.equal(await page.locator('.unread-count').innerText(), '(1)');
  await page.getByRole('link', { name: /^Notifications/ }).click();
  await page.waitForURL(/\/notifications$/);
  assert.equal(await page.locator('.notification.unread .what').innerText(), 'mentioned you in “Soup of the day”');
  await forum.check(page, 'j10-notifications');
  await phoneShot(context, '/notifications', 'j10-notifications');
  await page.locator('.notification .what').click();
  await page.waitForURL(/#post-2$/);
  assert.equal(await page.locator('#post-2 aside.quote .quote-by').innerText(), 'ada wrote:');
  assert.equal(await page.locator('#post-2 a.mention').innerText(), '@ada');
  assert.equal(await page.locator('.unread-count').count(), 0, 'opening it read it');
  await forum.check(page, 'j10-quoted-post');
  await phoneShot(context, new URL(page.url()).pathname, 'j10-quoted-post');
  await page.getByLabel('Your reply (Markdown)').fill('Thank you, @bram.');
  await page.getByRole('button', { name: 'Post reply' }).click();
  await page.waitForURL(/#post-3$/);
  assert.equal(await page.locator('#post-3 a.mention').innerText(), '@bram');
  await page.locator('#post-2 a.author').click();
  await page.waitForURL(/\/u\/bram$/);
  assert.equal(await page.locator('h1').innerText(), 'bram');
  await forum.check(page, 'j10-profile');
  await phoneShot(context, '/u/bram', 'j10-profile');
  // She blocks him: his post is collapsed for her, one click opens it.
  await page.getByRole('button', { name: 'Block' }).click();
  await page.waitForURL(/\/u\/bram$/);
  await page.goto(forum.origin + topic);
  await page.locator('#post-2 details.blocked-post summary').click();
  assert.equal(await page.locator('#post-2 details.blocked-post a.mention').innerText(), '@ada');
  await forum.check(page, 'j10-blocked');
  await phoneShot(context, topic, 'j10-blocked');
  await page.goto(forum.origin + '/account#notifications-heading');
  assert.equal(await page.locator('.blocked-members li a').innerText(), 'bram');
  await forum.check(page, 'j10-account-notifications');
  await phoneShot(context, '/account', 'j10-account-notifications');
  await page.getByRole('button', { name: 'Unblock bram' }).click();
  await page.waitForURL(/\/u\/bram$/);
  await context.close();

  // Ada's reply mentions bram: the server's mail loop e-mails it to him.
  let mail;
  for (let waited = 0; !mail; waited += 200) {
    assert.ok(waited < 15000, 'the reply e-mail came within 15 s');
    try {
      const newest = forum.mailTo('bram@example.org');
      if (newest.body.includes('ada mentioned you in')) mail = newest;
    } catch { /* no mail yet */ }
    if (!mail) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.match(mail.body, /Thank you, @bram\./);
  assert.match(mail.headers, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
  const unsubscribe = /(\/notifications\/unsubscribe\?\S+)/.exec(mail.body)[1];
  // His mail program opens the link: no cookies, one button.
  const inbox = await forum.browserContext();
  await inbox.page.goto(forum.origin + unsubscribe);
  await forum.check(inbox.page, 'j10-unsubscribe');
  await inbox.page.getByRole('button', { name: 'Unsubscribe' }).click();
  await inbox.page.waitForLoadState();
  assert.match(await inbox.page.locator('.flash').innerText(), /will not e-mail you about mentions of you/);
  await forum.check(inbox.page, 'j10-unsubscribed');
  await inbox.context.close();
  const account = await bram.request('/account');
  const mentions = /<select id="mail-mention"[\s\S]*?<\/select>/.exec(account)[0];
  assert.match(mentions, /<option value="off" selected>Not by e-mail<\/option>/);
  const replies = /<select id="mail-reply"[\s\S]*?<\/select>/.exec(account)[0];
  assert.match(replies, /<option value="each" selected>/, 'only that kind');
});

/** A real PNG (a blue square with a white bar), for the logo upload. */
function logoPng(size = 64) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const length = Buffer.alloc(4); length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0); header.writeUInt32BE(size, 4);
  header[8] = 8; header[9] = 2; // 8 bits, RGB
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = [0];
    for (let x = 0; x < size; x++) {
      const bar = y > size * 0.4 && y < size * 0.6;
      row.push(...(bar ? [255, 255, 255] : [31, 95, 168]));
    }
    rows.push(Buffer.from(row));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('11. an admin names the forum and uploads a logo; posts show highlighted code, tables and tasks; lists name the last poster', async () => {
  await new HttpMember(forum).register('keeper');
  forum.cli('admin', 'grant', 'keeper', 'admin');
  const { context, page } = await forum.browserContext();
  await page.goto(forum.origin + '/login');
  await page.getByLabel('Username or e-mail address').fill('keeper');
  await page.getByLabel('Password').fill('keeper-long-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.goto(forum.origin + '/admin/settings');
  await forum.check(page, 'j11-settings');
  await page.getByLabel("The forum's name").fill('Rustaceans');
  await page.getByLabel('Short description').fill('Questions and answers about Rust, for everyone.');
  await page.getByLabel('Contact e-mail address').fill('team@example.org');
  const logo = join(forum.dir, 'logo.png');
  writeFileSync(logo, logoPng());
  await page.getByLabel('Upload a logo').setInputFiles(logo);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForURL(/\/admin\/settings\?saved=1$/);
  assert.match(await page.locator('p.notice').innerText(), /Settings saved/);
  assert.equal(await page.locator('a.site-name').innerText(), 'Rustaceans');
  assert.ok(await page.locator('img.site-logo').evaluate((img) => img.complete && img.naturalWidth === 64), 'the logo loads');
  await forum.check(page, 'j11-settings-saved');
  await phoneShot(context, '/admin/settings', 'j11-settings');

  const rich = await seeder.request('/c/1/new', {
    title: 'Code, tables and tasks',
    body: [
      'A function:', '', '```rust', 'fn main() {', '    let answer: u32 = 42; // the answer', '    println!("{answer}");', '}', '```', '',
      '| Crate | Use |', '| --- | --- |', '| actix-web | the server |', '| diesel | the database |', '',
      '- [x] write it', '- [ ] ship it', '', '> quoted words', '> > and a nested quote',
    ].join('\n'),
  });
  await page.goto(forum.origin + rich);
  assert.ok(await page.locator('pre.highlight .hl-keyword').count() > 0, 'keywords are highlighted');
  assert.ok(await page.locator('pre.highlight .hl-comment').count() > 0, 'comments are highlighted');
  assert.equal(await page.locator('.post-body input[type=checkbox][checked]').count(), 1);
  await forum.check(page, 'j11-code');
  await phoneShot(context, rich, 'j11-code');

  // The long topic's pager, above and below the posts.
  await page.goto(forum.origin + longTopic);
  assert.deepEqual(await page.locator('nav.pagination .page-of').allInnerTexts(), ['Page 1 of 2', 'Page 1 of 2']);
  await page.getByRole('navigation', { name: 'Jump to page' }).getByRole('link', { name: 'Last' }).click();
  assert.match(page.url(), /\?page=2$/);
  await forum.check(page, 'j11-topic-pager');

  // Lists name who wrote the last post.
  await page.goto(forum.origin + '/c/1/general');
  assert.ok((await page.locator('.last-poster').allInnerTexts()).includes('by seeder'));
  await forum.check(page, 'j11-category');
  await phoneShot(context, '/c/1/general', 'j11-category');

  // Staff pages fit a phone too.
  for (const [path, name] of [['/admin', 'j11-dashboard'], ['/admin/audit', 'j11-audit'], ['/admin/members', 'j11-members']]) {
    await page.goto(forum.origin + path);
    await forum.check(page, name);
    await phoneShot(context, path, name);
  }

  // On a phone, the flag form is a page of its own that fits the screen, and "Other"
  // without words comes back with the message and the choice kept.
  const phone = await forum.browserContext({ phone: true });
  await phone.context.addCookies(await context.cookies());
  await phone.page.goto(forum.origin + rich);
  await phone.page.locator('#post-1').getByRole('link', { name: 'Flag' }).click();
  await phone.page.waitForURL(/\/flag$/);
  await phone.page.getByLabel('Why?').selectOption('other');
  await phone.page.getByRole('button', { name: 'Flag this post' }).click();
  await phone.page.getByRole('alert').filter({ hasText: 'Say what is wrong with the post.' }).waitFor();
  assert.equal(await phone.page.getByLabel('Why?').inputValue(), 'other');
  await forum.check(phone.page, 'j11-flag-form-phone');
  await phone.context.close();
  await context.close();
});

/** The code an authenticator app shows for a base32 secret at time `t` (RFC 6238:
 * HMAC-SHA1, 30-second steps, six digits), as the member's phone would compute it. */
function totp(secret, t) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/[\s=]/g, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) key.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = createHmac('sha1', Buffer.from(key)).update(counter).digest();
  const at = mac[19] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, '0');
}

test('12. a member turns on two-factor sign-in with an app, keeps the recovery codes, and signs in with a code', async () => {
  await new HttpMember(forum).register('careful');
  const { context, page } = await forum.browserContext();
  await page.goto(forum.origin + '/login');
  await page.getByLabel('Username or e-mail address').fill('careful');
  await page.getByLabel('Password').fill('careful-long-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(forum.origin + '/');

  await page.goto(forum.origin + '/account');
  await page.locator('li.two-factor').getByRole('link', { name: 'change' }).click();
  await page.waitForURL(forum.origin + '/account/two-factor');
  assert.equal(await page.getByRole('img', { name: 'QR code for your authenticator app' }).count(), 1);
  await forum.check(page, 'j12-two-factor-setup');
  const key = (await page.locator('code.secret').innerText()).replace(/\s/g, '');
  await page.getByLabel('Code from the app').fill(totp(key, Date.now() / 1000));
  await page.getByRole('button', { name: 'Turn two-factor sign-in on' }).click();
  await page.waitForSelector('ul.recovery-codes');
  assert.equal(await page.locator('ul.recovery-codes li').count(), 10);
  await forum.check(page, 'j12-recovery-codes');
  assert.match(forum.mailTo('careful@example.org').headers, /Subject: Two-factor sign-in is on/);

  const laptop = await forum.browserContext();
  await laptop.page.goto(forum.origin + '/login');
  await laptop.page.getByLabel('Username or e-mail address').fill('careful');
  await laptop.page.getByLabel('Password').fill('careful-long-password');
  await laptop.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await laptop.page.waitForSelector('h1:has-text("One more step")');
  assert.equal(await laptop.page.locator('.signed-in-as').count(), 0, 'not signed in after the password alone');
  await forum.check(laptop.page, 'j12-second-step');
  await laptop.page.getByLabel('Code').fill(totp(key, Date.now() / 1000 + 30));
  await laptop.page.getByRole('button', { name: 'Sign in' }).click();
  await laptop.page.waitForURL(forum.origin + '/');
  assert.equal(await laptop.page.locator('.signed-in-as strong').innerText(), 'careful');
  await laptop.context.close();
  await phoneShot(context, '/account/two-factor', 'j12-two-factor-on');
  await context.close();
});

test('every page was valid HTML and nothing came from another origin', () => {
  assert.deepEqual(forum.thirdParty, []);
  assert.ok(forum.pagesChecked > 20, `pages checked: ${forum.pagesChecked}`);
  forum.validateHtml();
});
