/* SPDX-License-Identifier: MIT */
/*
 * The operator's own firmware files (PUT /api/firmware/files/<name>), for a
 * rollout on a site with no CSMS and no file host. They live in
 * data_dir/firmware under their names, each with a sidecar
 * ".<name>.sha256" (digest, size, mtime) so a restart does not hash them
 * again; an upload is written to ".<name>.part" as it arrives and renamed
 * when complete. They are never dropped by the download cache (files.c
 * serves them through entries marked local) and are bounded by
 * files.max_file_size each, files.firmware_max_files and
 * files.firmware_max_size together. This file neither reads HTTP (the admin
 * API streams the body here) nor sends firmware (rollout.c does).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/files/files.h"
#include "features/files/internal.h"

#define SHA_HEX 64

struct fwfile {
	lws_dll2_t list;            /* fw->files */
	char name[NAME_MAX_LEN + 1];
	uint64_t size;
	struct timespec mtime;
	char sha256[SHA_HEX + 1];
	unsigned int holds;         /* running rollouts that send it */
};

struct fwstore {
	char dir[420];              /* data_dir/firmware */
	lws_dll2_owner_t files;
	lws_dll2_owner_t puts;      /* uploads under way */
};

struct ogw_fw_put {
	lws_dll2_t list;            /* fw->puts */
	struct ogw_files *fs;       /* NULL once the gateway stopped */
	char name[NAME_MAX_LEN + 1];
	char part[500];
	int fd;
	uint64_t size, got;
	mbedtls_md_context_t md;
};

const char *ogw_fw_name_check(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > NAME_MAX_LEN)
		return "expected 1 to 64 characters";
	if (name[0] == '.')
		return "must not start with '.'";
	for (size_t i = 0; i < n; i++)
		if (!ogw_files_name_char(name[i]))
			return "letters, digits, '.', '-' and '_' only";
	return NULL;
}

static struct fwfile *file_find(struct fwstore *fw, const char *name)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fw->files)) {
		struct fwfile *f = lws_container_of(d, struct fwfile, list);
		if (!strcmp(f->name, name))
			return f;
	} lws_end_foreach_dll(d);
	return NULL;
}

static struct ogw_fw_put *put_find(struct fwstore *fw, const char *name)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fw->puts)) {
		struct ogw_fw_put *p = lws_container_of(d, struct ogw_fw_put, list);
		if (!strcmp(p->name, name))
			return p;
	} lws_end_foreach_dll(d);
	return NULL;
}

/* @name's path in the folder: "<dir>/<pre><name><post>". */
static void path_of(const struct fwstore *fw, const char *pre, const char *name, const char *post,
		    char *ret, size_t len)
{
	int n = snprintf(ret, len, "%s/%s%s%s", fw->dir, pre, name, post);
	if (n < 0 || (size_t)n >= len)
		ret[0] = '\0';   /* cannot happen: dir and name are bounded */
}

/* The sidecar: "<sha256 hex> <size> <mtime s>.<ns>". Without it the file
 * is hashed again at the next start, so a failure is a warning. */
static void sidecar_write(const struct fwstore *fw, const struct fwfile *f)
{
	char p[500];
	path_of(fw, ".", f->name, ".sha256", p, sizeof(p));
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *o = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fd >= 0 && !o)
		close(fd);
	bool ok = o && fprintf(o, "%s %llu %lld.%09ld\n", f->sha256, (unsigned long long)f->size,
			       (long long)f->mtime.tv_sec, f->mtime.tv_nsec) > 0;
	if (o && fclose(o))
		ok = false;
	if (!ok) {
		ogw_warn(NULL, "firmware file %s: Failed to write %s: %s (hashed again at the "
			 "next start)", f->name, p, strerror(errno));
		unlink(p);
	}
}

/* Whether the sidecar describes @f's file as it is now: then its digest. */
static bool sidecar_read(const struct fwstore *fw, struct fwfile *f)
{
	char p[500], hex[SHA_HEX + 1];
	unsigned long long size;
	long long sec;
	long nsec;
	path_of(fw, ".", f->name, ".sha256", p, sizeof(p));
	FILE *i = fopen(p, "re");
	int n = i ? fscanf(i, "%64[0-9a-f] %llu %lld.%ld", hex, &size, &sec, &nsec) : 0;
	if (i)
		fclose(i);
	if (n != 4 || strlen(hex) != SHA_HEX || size != f->size || sec != f->mtime.tv_sec ||
	    nsec != f->mtime.tv_nsec)
		return false;
	memcpy(f->sha256, hex, sizeof(hex));
	return true;
}

static void hex_of(mbedtls_md_context_t *md, char ret[SHA_HEX + 1])
{
	unsigned char hash[32];
	mbedtls_md_finish(md, hash);
	ogw_hex_encode(hash, sizeof(hash), ret);
	ret[SHA_HEX] = '\0';
}

/* At start only, before the loop serves anyone: a file whose sidecar does
 * not match (put there by hand, or a replacement cut by a crash). */
static int hash_file(const char *path, char ret[SHA_HEX + 1])
{
	mbedtls_md_context_t md;
	static unsigned char buf[CHUNK];
	ssize_t n;
	int r = -EIO, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	mbedtls_md_init(&md);
	if (!mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 0) &&
	    !mbedtls_md_starts(&md)) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			mbedtls_md_update(&md, buf, (size_t)n);
		if (n == 0) {
			hex_of(&md, ret);
			r = 0;
		}
	}
	mbedtls_md_free(&md);
	close(fd);
	return r;
}

/* Total bytes of the files, and uploads under way, but @except's. */
static uint64_t bytes_taken(struct fwstore *fw, const char *except)
{
	uint64_t sum = 0;
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fw->files)) {
		struct fwfile *f = lws_container_of(d, struct fwfile, list);
		if (strcmp(f->name, except))
			sum += f->size;
	} lws_end_foreach_dll(d);
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fw->puts)) {
		sum += lws_container_of(d, struct ogw_fw_put, list)->size;
	} lws_end_foreach_dll(d);
	return sum;
}

/* Whether @f may be replaced or deleted now: 0, or -EBUSY with @err saying why. */
static int file_free_to_go(struct ogw_files *fs, struct fwfile *f, char *err, size_t errlen)
{
	if (f->holds) {
		snprintf(err, errlen, "%s: a running rollout sends it (stop it or wait for its end)",
			 f->name);
		return -EBUSY;
	}
	if (ogw_files_forget_local(fs, f->name) < 0) {
		snprintf(err, errlen, "%s: a charger is downloading it now", f->name);
		return -EBUSY;
	}
	return 0;
}

static struct fwstore *store_of(struct ogw_gateway *gw, char *err, size_t errlen)
{
	struct ogw_files *fs = ogw_files_of(gw);
	if (!fs || !fs->fw) {
		snprintf(err, errlen, "the file server is off: set files.listen");
		return NULL;
	}
	return fs->fw;
}

int ogw_fw_put_begin(struct ogw_gateway *gw, const char *name, uint64_t size,
		     struct ogw_fw_put **ret, char *err, size_t errlen)
{
	const struct ogw_conf *c = &gw->conf;
	struct fwstore *fw = store_of(gw, err, errlen);
	const char *why;
	struct statvfs vfs;

	if (!fw)
		return -ENOTSUP;
	if ((why = ogw_fw_name_check(name))) {
		snprintf(err, errlen, "name: %s", why);
		return -EINVAL;
	}
	if (size > c->files_max_file_size) {
		snprintf(err, errlen, "body: %llu bytes is over files.max_file_size (%zu bytes)",
			 (unsigned long long)size, c->files_max_file_size);
		return -EFBIG;
	}
	struct fwfile *old = file_find(fw, name);
	int rc;
	if (put_find(fw, name)) {
		snprintf(err, errlen, "%s: another upload of it is under way", name);
		return -EBUSY;
	}
	if (old && (rc = file_free_to_go(gw->files, old, err, errlen)) < 0)
		return rc;
	if (fw->files.count - (old ? 1 : 0) + fw->puts.count >= (uint32_t)c->files_firmware_max_files) {
		snprintf(err, errlen, "files.firmware_max_files (%d) reached: delete one first",
			 c->files_firmware_max_files);
		return -EDQUOT;
	}
	uint64_t taken = bytes_taken(fw, name);
	if (taken + size > c->files_firmware_max_size) {
		snprintf(err, errlen, "files.firmware_max_size (%zu bytes) would be passed: %llu "
			 "bytes are taken", c->files_firmware_max_size, (unsigned long long)taken);
		return -EDQUOT;
	}
	if (statvfs(fw->dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < size) {
		snprintf(err, errlen, "the disk of %s has %llu bytes free", fw->dir,
			 (unsigned long long)vfs.f_bavail * vfs.f_frsize);
		return -ENOSPC;
	}
	struct ogw_fw_put *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->fs = gw->files;
	p->size = size;
	snprintf(p->name, sizeof(p->name), "%s", name);
	path_of(fw, ".", name, ".part", p->part, sizeof(p->part));
	mbedtls_md_init(&p->md);
	p->fd = open(p->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (p->fd < 0 || mbedtls_md_setup(&p->md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 0) ||
	    mbedtls_md_starts(&p->md)) {
		int r = p->fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "Failed to create %s: %s", p->part, strerror(-r));
		if (p->fd >= 0) {
			close(p->fd);
			unlink(p->part);
		}
		mbedtls_md_free(&p->md);
		free(p);
		return r;
	}
	lws_dll2_add_tail(&p->list, &fw->puts);
	ogw_info(NULL, "firmware file %s: receiving %llu bytes", name, (unsigned long long)size);
	*ret = p;
	return 0;
}

int ogw_fw_put_write(struct ogw_fw_put *p, const void *data, size_t len)
{
	if (!p->fs)
		return -ESHUTDOWN;
	if (len > p->size - p->got)
		return -EFBIG;
	int r = ogw_files_write_all(p->fd, data, len);
	if (r < 0)
		return r;
	mbedtls_md_update(&p->md, data, len);
	p->got += len;
	return 0;
}

static void put_free(struct ogw_fw_put *p)
{
	if (p->fs) {
		lws_dll2_remove(&p->list);
		if (p->fd >= 0)
			close(p->fd);
		unlink(p->part);
	}
	mbedtls_md_free(&p->md);
	free(p);
}

void ogw_fw_put_abort(struct ogw_fw_put *p)
{
	if (!p)
		return;
	if (p->fs)
		ogw_warn(NULL, "firmware file %s: upload dropped after %llu of %llu bytes", p->name,
			 (unsigned long long)p->got, (unsigned long long)p->size);
	put_free(p);
}

json_t *ogw_fw_put_commit(struct ogw_fw_put *p, int *ret_rc, char *err, size_t errlen)
{
	struct fwstore *fw = p->fs ? p->fs->fw : NULL;
	struct fwfile *f = NULL;
	char final[500];
	struct stat st;
	json_t *out = NULL;
	int rc = 0;

	if (!fw) {
		snprintf(err, errlen, "the gateway is stopping");
		rc = -ESHUTDOWN;
		goto out;
	}
	if (p->got != p->size) {
		snprintf(err, errlen, "body: %llu of %llu bytes", (unsigned long long)p->got,
			 (unsigned long long)p->size);
		rc = -EIO;
		goto out;
	}
	/* A rollout may have started with the old file while this one came. */
	struct fwfile *old = file_find(fw, p->name);
	if (old && (rc = file_free_to_go(p->fs, old, err, errlen)) < 0)
		goto out;
	int fd = p->fd;
	p->fd = -1;
	if (fstat(fd, &st) < 0 || close(fd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "Failed to write %s: %s", p->part, strerror(errno));
		goto out;
	}
	f = old ? old : calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(f->name, sizeof(f->name), "%s", p->name);
	f->size = p->size;
	f->mtime = st.st_mtim;
	hex_of(&p->md, f->sha256);
	sidecar_write(fw, f);
	path_of(fw, "", p->name, "", final, sizeof(final));
	if (rename(p->part, final) < 0) {
		rc = -errno;
		snprintf(err, errlen, "Failed to rename %s: %s", p->part, strerror(errno));
		if (!old)
			free(f);
		goto out;
	}
	if (!old)
		lws_dll2_add_tail(&f->list, &fw->files);
	ogw_info(NULL, "firmware file %s: %llu bytes, sha256 %s%s", f->name,
		 (unsigned long long)f->size, f->sha256, old ? " (replaced the last one)" : "");
	out = json_pack("{s:s, s:I, s:s}", "file", f->name, "size", (json_int_t)f->size,
			"sha256", f->sha256);
out:
	if (rc < 0)
		ogw_warn(NULL, "firmware file %s: not kept: %s", p->name, err);
	*ret_rc = rc;
	put_free(p);
	return out;
}

json_t *ogw_fw_list_json(struct ogw_gateway *gw)
{
	char err[80];
	struct fwstore *fw = store_of(gw, err, sizeof(err));
	if (!fw)
		return NULL;
	json_t *list = json_array();

	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fw->files)) {
		struct fwfile *f = lws_container_of(d, struct fwfile, list);
		char at[32];
		ogw_time_format_rfc3339((int64_t)f->mtime.tv_sec, at);
		json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s}", "name", f->name, "size",
						      (json_int_t)f->size, "sha256", f->sha256,
						      "mtime", at));
	} lws_end_foreach_dll(d);
	return json_pack("{s:o, s:I, s:i, s:I}", "files", list, "bytes",
			 (json_int_t)bytes_taken(fw, ""), "max_files",
			 gw->conf.files_firmware_max_files, "max_size",
			 (json_int_t)gw->conf.files_firmware_max_size);
}

static void file_drop(struct fwstore *fw, struct fwfile *f)
{
	char p[500];
	path_of(fw, "", f->name, "", p, sizeof(p));
	unlink(p);
	path_of(fw, ".", f->name, ".sha256", p, sizeof(p));
	unlink(p);
	lws_dll2_remove(&f->list);
	free(f);
}

int ogw_fw_delete(struct ogw_gateway *gw, const char *name, char *err, size_t errlen)
{
	struct fwstore *fw = store_of(gw, err, errlen);
	const char *why;
	struct fwfile *f;
	int rc;

	if (!fw)
		return -ENOTSUP;
	if ((why = ogw_fw_name_check(name))) {
		snprintf(err, errlen, "name: %s", why);
		return -EINVAL;
	}
	if (!(f = file_find(fw, name))) {
		snprintf(err, errlen, "name: no firmware file %s", name);
		return -ENOENT;
	}
	if ((rc = file_free_to_go(gw->files, f, err, errlen)) < 0)
		return rc;
	ogw_info(NULL, "firmware file %s: deleted", name);
	file_drop(fw, f);
	return 0;
}

int ogw_fw_lookup(struct ogw_files *fs, const char *name, char *ret_path, size_t pathlen,
		  uint64_t *ret_size, char ret_sha[65])
{
	struct fwfile *f = fs->fw ? file_find(fs->fw, name) : NULL;
	if (!f)
		return -ENOENT;
	if (ret_path)
		path_of(fs->fw, "", name, "", ret_path, pathlen);
	if (ret_size)
		*ret_size = f->size;
	if (ret_sha)
		memcpy(ret_sha, f->sha256, SHA_HEX + 1);
	return 0;
}

int ogw_fw_hold(struct ogw_files *fs, const char *name, bool hold)
{
	struct fwfile *f = fs->fw ? file_find(fs->fw, name) : NULL;
	if (!f)
		return -ENOENT;
	if (hold)
		f->holds++;
	else if (f->holds)
		f->holds--;
	return 0;
}

/* One entry of the folder at start: a file of the operator's, kept. */
static void restore_one(struct fwstore *fw, const char *name)
{
	char p[500];
	struct stat st;
	struct fwfile *f;

	path_of(fw, "", name, "", p, sizeof(p));
	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
		ogw_warn(NULL, "firmware file %s: not a regular file, ignored", p);
		return;
	}
	if (!(f = calloc(1, sizeof(*f))))
		return;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->size = (uint64_t)st.st_size;
	f->mtime = st.st_mtim;
	if (!sidecar_read(fw, f)) {
		int r = hash_file(p, f->sha256);
		if (r < 0) {
			ogw_warn(NULL, "firmware file %s: Failed to read it: %s", p, strerror(-r));
			free(f);
			return;
		}
		ogw_info(NULL, "firmware file %s: hashed (no matching %s sidecar)", name, ".sha256");
		sidecar_write(fw, f);
	}
	lws_dll2_add_tail(&f->list, &fw->files);
}

int ogw_fw_start(struct ogw_gateway *gw)
{
	struct ogw_files *fs = ogw_files_of(gw);
	struct fwstore *fw;
	struct dirent *de;
	char p[800];
	DIR *d;

	if (!fs)
		return 0;
	if (!(fw = calloc(1, sizeof(*fw))))
		return -ENOMEM;
	fs->fw = fw;
	snprintf(fw->dir, sizeof(fw->dir), "%s/firmware", gw->conf.data_dir);
	if (mkdir(fw->dir, 0700) < 0 && errno != EEXIST) {
		int r = -errno;
		ogw_err(NULL, "Failed to create %s: %s", fw->dir, strerror(errno));
		return r;
	}
	/* The operator's files first, then what is ours: a cut upload
	 * (.<name>.part) and a sidecar whose file is gone. */
	for (int pass = 0; pass < 2; pass++) {
		if (!(d = opendir(fw->dir)))
			break;
		while ((de = readdir(d))) {
			const char *n = de->d_name;
			size_t len = strlen(n);
			if (pass == 0 && n[0] != '.') {
				if (ogw_fw_name_check(n))
					ogw_warn(NULL, "firmware file %s/%s: not a name the admin API "
						 "takes, ignored", fw->dir, n);
				else
					restore_one(fw, n);
				continue;
			}
			if (pass == 0 || n[0] != '.' || !strcmp(n, ".") || !strcmp(n, ".."))
				continue;
			bool sidecar = len > 8 && !strcmp(n + len - 7, ".sha256");
			char name[NAME_MAX_LEN + 8];
			snprintf(name, sizeof(name), "%.*s", (int)(len > 8 ? len - 8 : 0), n + 1);
			if (sidecar && file_find(fw, name))
				continue;
			snprintf(p, sizeof(p), "%s/%s", fw->dir, n);
			unlink(p);
		}
		closedir(d);
	}
	if (fw->files.count)
		ogw_info(NULL, "firmware files: %u kept in %s, %llu bytes",
			 (unsigned int)fw->files.count, fw->dir,
			 (unsigned long long)bytes_taken(fw, ""));
	return 0;
}

void ogw_fw_stop(struct ogw_gateway *gw)
{
	struct ogw_files *fs = ogw_files_of(gw);
	struct fwstore *fw = fs ? fs->fw : NULL;
	if (!fw)
		return;
	/* Uploads under way belong to their admin connections, which close
	 * later: they are cut here and freed by those. */
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fw->puts)) {
		struct ogw_fw_put *p = lws_container_of(d, struct ogw_fw_put, list);
		lws_dll2_remove(&p->list);
		close(p->fd);
		p->fd = -1;
		unlink(p->part);
		p->fs = NULL;
	} lws_end_foreach_dll_safe(d, n);
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fw->files)) {
		struct fwfile *f = lws_container_of(d, struct fwfile, list);
		lws_dll2_remove(&f->list);
		free(f);
	} lws_end_foreach_dll_safe(d, n);
	free(fw);
	fs->fw = NULL;
}
